from tests.raycluster import ray_cluster

__all__ = ["ray_cluster"]
