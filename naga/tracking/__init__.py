"""MLflow logging of run directories as logical runs."""
