"""Ground floor: config classes and YAML files become OmegaConf structured configs."""
