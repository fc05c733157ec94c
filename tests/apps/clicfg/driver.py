"""Another module calling a @clicfg function, under a Jupyter kernel's argv: no parsing."""

import sys

sys.argv = ["ipykernel_launcher.py", "-f", "/tmp/kernel-123.json"]
import train  # noqa: E402  # imported after the argv a kernel would have


def notebook_cell():
    return train.main()


print("RET=", notebook_cell())
print("RET=", train.main(param=10, **{"model.depth": 5}))
print("RET=", train.main(train.Config()))
