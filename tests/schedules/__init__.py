"""Schedule tests: hand tables, Keras 3 run live, the schedule contract."""
