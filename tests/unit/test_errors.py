import subprocess
import sys
from pathlib import Path

import pytest

from fastprod import errors
from fastprod.records import check_topic_name

ROOT = Path(__file__).resolve().parents[2]


def test_from_code_gives_the_specific_class():
    exc = errors.KafkaError.from_code(-192, "Local: Message timed out")
    assert type(exc) is errors.MsgTimedOutError
    assert (exc.code, exc.name, exc.retriable, exc.fatal) == (-192, "_MSG_TIMED_OUT", True, False)
    assert isinstance(exc, errors.FastProdError)


def test_java_style_aliases():
    assert errors.MessageSizeTooLargeError is errors.MsgSizeTooLargeError
    assert errors.MessageSizeTooLargeError.code == 10
    assert errors.UnknownTopicOrPartitionError.code == 3


def test_unknown_code_keeps_its_number():
    exc = errors.KafkaError.from_code(99999, "new")
    assert type(exc) is errors.KafkaError and exc.code == 99999


def test_builtin_bases():
    assert issubclass(errors.ConfigError, ValueError)
    assert issubclass(errors.SerializationError, TypeError)
    assert issubclass(errors.KafkaTimeoutError, TimeoutError)
    assert issubclass(errors.QueueFullError, BufferError)


@pytest.mark.source_tree
def test_generated_error_codes_are_current():
    r = subprocess.run([sys.executable, str(ROOT / "tools" / "generate_error_codes.py"), "--check"],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr


@pytest.mark.parametrize("name", ["", ".", "..", "a" * 250, "bad topic", "tópico", "a/b"])
def test_illegal_topic_names(name):
    with pytest.raises(errors.InvalidTopicError):
        check_topic_name(name)


@pytest.mark.parametrize("name", ["a", "a" * 249, "events.v1", "A_b-9"])
def test_legal_topic_names(name):
    check_topic_name(name)
