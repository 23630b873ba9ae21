"""Running trainings and predictions on a Ray cluster (``pip install deepaas[ray]``).

Nothing here is imported unless ``--executor ray`` or ``--predict-executor ray`` asks for it,
so the default server never loads Ray.
"""
