// Package stack holds the tests of the whole runtime over the real RabbitMQ: registry,
// components and callers, each with its own connection as separate processes would have.
package stack
