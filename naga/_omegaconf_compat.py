"""Every use of OmegaConf's private API, in one place (omegaconf 2.3), so an upgrade is
checked in this one file: the public API hands out resolved *values*; walking a config
without resolving it, moving a node, or reading an interpolation's text needs the *node*.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from omegaconf import Container, DictKeyType, Node


def node_at(container: Container, key: DictKeyType | int) -> Node:
    """The node at ``key`` (a key ``container`` has); ``cfg[key]`` would resolve it."""
    return container._get_node(key)  # type: ignore[return-value]  # a list for slices only


def holds_keys(node: Container) -> bool:
    """True when a config node is neither ``None`` nor ``???``.

    ``OmegaConf.is_missing`` asks a parent about a key; the public ``is_none`` is deprecated.
    """
    return not node._is_none() and not node._is_missing()


def raw_value(node: Node) -> object:
    """A leaf's value as stored (``${...}`` unresolved); public only for whole containers."""
    return node._value()


def set_parent(node: Node, parent: Container) -> None:
    """Resolve ``node``'s interpolations in ``parent``, as ``HydraConfig.set_config`` does.

    Hydra does it to a copy; naga installs a job's own ``hydra`` node, without copying.
    """
    node._set_parent(parent)
