"""What may be written outside, as pure data and rules: workflows and rollout modes, one intended write
(its idempotency key), the writes a decision or a released plan asks for, and the policy every write
passes. The gateway (``oms_pipeline.gateway``) carries them out."""
