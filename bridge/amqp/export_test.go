package amqpbridge

// WithDurabilityHintForTest exposes withDurabilityHint to the external tests.
var WithDurabilityHintForTest = withDurabilityHint

// ShardOfForTest exposes shardOf: which shared channel a queue's consumer uses.
var ShardOfForTest = shardOf
