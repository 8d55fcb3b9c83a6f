import fastprod._core


def pytest_report_header(config):
    version, _ = fastprod._core.librdkafka_version()
    return [f"fastprod._core: {fastprod._core.__file__}", f"librdkafka: {version}"]
