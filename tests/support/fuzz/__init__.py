"""What the fuzz tests in tests/unit/fuzz/ are made of, in the order each builds on the last:
user_code.py (lying subclasses, obedient serializers, show()), producers.py (one producer per
serializer pairing), contract.py (the documented errors and the oracle), checker.py (runs a call,
checks it against the oracle), calls.py (Hypothesis strategies for calls)."""
