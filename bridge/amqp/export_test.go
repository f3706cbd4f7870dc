package amqpbridge

// WithDurabilityHintForTest exposes withDurabilityHint to the external tests.
var WithDurabilityHintForTest = withDurabilityHint

// ShardOfForTest exposes shardOf: which shared channel a queue's consumer uses.
var ShardOfForTest = shardOf

// HoldSharedRPCForTest takes the RPC lock of the shared channel that the consumers of
// queue with prefetch use, as a basic.consume waiting for the broker holds it; release
// gives it back.
func (t *Transport) HoldSharedRPCForTest(queue string, prefetch int) (release func()) {
	t.mu.Lock()
	l := t.link
	t.mu.Unlock()
	l.sharedMu.Lock()
	sc := l.shared[sharedKey{prefetch: prefetch, shard: shardOf(queue)}]
	l.sharedMu.Unlock()
	sc.rpc.Lock()
	return sc.rpc.Unlock
}
