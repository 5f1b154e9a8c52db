"""Speed, accuracy and reliability benchmarks (scripts writing JSON to out/)."""
