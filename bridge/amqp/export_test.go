package amqpbridge

// WithDurabilityHintForTest exposes withDurabilityHint to the external tests.
var WithDurabilityHintForTest = withDurabilityHint
