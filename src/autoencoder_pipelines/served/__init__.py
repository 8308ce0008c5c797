"""The files MLflow logs as the tasks' served models ("models from code": each sets its
task's ``mlflow.pyfunc.PythonModel`` with ``mlflow.models.set_model``, nothing is
pickled). The classes are in :mod:`autoencoder_pipelines.serving`."""
