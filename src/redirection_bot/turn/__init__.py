"""One person's turn, end to end: the door typed text comes in by (ingress), who takes an
event (routing), the runtime that walks the turn, the one executor of what the machines ask
(effects), and the action seam (actions, built-in actions, the rasa-sdk action server)."""
