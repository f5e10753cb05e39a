"""The model: plan, draws (the only randomness), stepping rules, steppers."""
