// Package hostile holds no code: its tests show that the registry and components survive
// peers that misbehave, over the real RabbitMQ: requests that make methods panic, forged
// unregisters, descriptions past the limits, and components that leave without cleaning
// up (their queues must not be left behind).
package hostile
