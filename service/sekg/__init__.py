"""Social Economy Knowledge Graph: ontology, shapes, sourced data and the service that publishes them."""

__version__ = "0.1.0"
