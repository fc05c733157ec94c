"""Every use of OmegaConf's private API, in one place (omegaconf 2.3).

OmegaConf's public API hands out *values*: ``cfg[key]`` and ``OmegaConf.select`` resolve
interpolations and raise on ``???``. naga sometimes needs the *node* instead: to walk a
config without resolving it, to move a node with its type and flags into another config,
or to read an interpolation's text. Those steps use OmegaConf's underscore methods; they
are all here, so an OmegaConf upgrade is checked in one file. OmegaConf is not imported:
importing this module costs nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from omegaconf import Container, DictKeyType, Node


def node_at(container: Container, key: DictKeyType | int) -> Node:
    """The node stored at ``key`` (a key ``container`` has), not its value.

    No public call returns the node: ``cfg[key]`` resolves an interpolation and raises on
    ``???``; walking a config to list its keys or find what fails must do neither.
    """
    return container._get_node(key)  # type: ignore[return-value]


def holds_keys(node: Container) -> bool:
    """True when a config node has content: neither ``None`` nor ``???``.

    ``OmegaConf.is_missing`` asks the parent about one key, and the public ``is_none`` is
    deprecated; the node itself knows both.
    """
    return not node._is_none() and not node._is_missing()


def raw_value(node: Node) -> object:
    """A leaf node's value as stored: an interpolation's ``${...}`` text, unresolved.

    ``OmegaConf.to_container(..., resolve=False)`` gives it only for a whole container.
    """
    return node._value()


def set_parent(node: Node, parent: Container) -> None:
    """Make ``parent`` the config ``node``'s interpolations are resolved in.

    ``HydraConfig.set_config`` does the same to a copy of the ``hydra`` node; naga installs
    a job's own node without copying it (naga.launch.launchers.inprocess).
    """
    node._set_parent(parent)
