import pytest

from churn_modules import spark_session


@pytest.fixture(scope="session")
def spark():
    """One local[2] session for the whole suite: starting Spark costs seconds, every test reuses it."""
    with spark_session.spark_job("churn-tests", "local[2]", ui=False, driver_memory="1g") as session:
        yield session
