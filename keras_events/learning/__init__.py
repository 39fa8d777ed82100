"""Online learning for event RNNs: exact (sparse) RTRL and SnAp-n."""
