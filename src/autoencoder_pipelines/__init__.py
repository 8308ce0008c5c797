"""Kedro pipelines for eight autoencoder studies."""

__version__ = "0.1.0"
