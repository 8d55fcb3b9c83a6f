"""Every public object of the package has a docstring: modules, classes, functions, and the
methods and properties classes define (the compiled ones included)."""

from __future__ import annotations

import importlib
import inspect
import types

import msgspec
import pytest

MODULES = ["fastprod", "fastprod.producer", "fastprod.config", "fastprod.errors",
           "fastprod.serializers", "fastprod.records", "fastprod.cli", "fastprod.bench.run"]


def _public(module: types.ModuleType) -> dict[str, object]:
    names = getattr(module, "__all__", None) or [
        n for n, obj in vars(module).items() if not n.startswith("_")
        and getattr(obj, "__module__", None) == module.__name__]
    return {n: getattr(module, n) for n in names}


def _undocumented() -> list[str]:
    missing = []
    for name in MODULES:
        module = importlib.import_module(name)
        if not (module.__doc__ or "").strip():
            missing.append(name)
        for attr, obj in _public(module).items():
            if not (inspect.isclass(obj) or callable(obj)):
                continue  # constants
            if not (inspect.getdoc(obj) or "").strip():
                missing.append(f"{name}.{attr}")
            if inspect.isclass(obj) and issubclass(obj, msgspec.Struct):
                # fields cannot carry docstrings: the class's must name each
                doc = inspect.getdoc(obj) or ""
                missing += [f"{name}.{attr}.{f}" for f in obj.__struct_fields__
                            if f"``{f}``" not in doc]
            elif inspect.isclass(obj) and not issubclass(obj, BaseException | int):
                for member, value in vars(obj).items():
                    if member.startswith("_") or not (callable(value) or isinstance(
                            value, (property, types.GetSetDescriptorType,
                                    types.MemberDescriptorType))):
                        continue
                    if not (inspect.getdoc(getattr(obj, member)) or "").strip():
                        missing.append(f"{name}.{attr}.{member}")
    return sorted(set(missing))


def test_every_public_object_has_a_docstring():
    assert _undocumented() == []


@pytest.mark.parametrize("name", ["send", "send_batch", "flush", "close", "partitions_for"])
def test_producer_methods_document_their_use(name):
    import fastprod

    assert len(inspect.getdoc(getattr(fastprod.Producer, name)) or "") > 80


def test_help_shows_signatures_and_no_cython_internals():
    import pydoc

    import fastprod

    for cls in (fastprod.Producer, fastprod.DeliveryFuture, fastprod.BatchResult):
        text = pydoc.render_doc(cls, renderer=pydoc.plaintext)
        assert "__pyx" not in text and "cython" not in text.lower(), cls
    text = pydoc.render_doc(fastprod.Producer, renderer=pydoc.plaintext)
    for signature in ("flush(self, timeout=None)", "send_and_forget(self, topic, value=None",
                      "purge(self, in_queue=True, in_flight=True, blocking=True)",
                      "partitions_for(self, topic, timeout=None)"):
        assert signature in text, signature
    assert "See Producer.flush" not in text
