"""Channel adapters (chat, email, phone) and the outbox dispatcher. Each turns its protocol into
``InboundMessage`` for the core and sends outbound envelopes; see docs/architecture.md."""
