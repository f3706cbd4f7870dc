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

// RecountsForTest is how many passive declares the transport made to count the consumers
// of a queue before consuming it on a shared channel.
func (t *Transport) RecountsForTest() int64 { return t.recounts.Load() }

// OnDrainGetForTest has Drain call f after each message it gets, with how many it has.
func (t *Transport) OnDrainGetForTest(f func(taken int)) { t.drainGot = f }
