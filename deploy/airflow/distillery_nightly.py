"""Distillery's nightly run as an Airflow DAG (Airflow 2, apache-airflow-providers-apache-spark).

One task, ``distill``, submits ``distillery run`` for the night with SparkSubmitOperator, in client mode (the Spark
connection's extra ``{"deploy-mode": "client"}``): the driver runs on the Airflow worker, so its exit code reaches
Airflow (in cluster mode YARN reports every failure as 1). The run id comes from the logical date, so a re-run of a
night is idempotent: its finished stages are reused, and a remote teacher is asked only what its cache lacks.

Exit codes: 1 (failed) is retried; 2 (bad configuration), 3 (tonight's student failed the promotion gate: the promoted
one stays) and 4 (the teacher's terms forbid the run) fail the task at once, without retries, and alert.
"""
from __future__ import annotations

import re
from datetime import datetime, timedelta

from airflow import DAG
from airflow.exceptions import AirflowException, AirflowFailException
from airflow.providers.apache.spark.operators.spark_submit import SparkSubmitOperator

#: Where the release and the night's config live on the Airflow workers.
HOME = "/opt/distillery"
CONFIG = "/etc/distillery/nightly.conf"

#: Exit codes that a retry does not fix (DistilleryCli): what each means, for the alert.
NOT_RETRIED = {
    2: "bad configuration or usage, or a run set to train on GPUs found none",
    3: "tonight's student failed the promotion gate; the promoted student stays",
    4: "the teacher's terms forbid this run",
}

#: distillery's own arguments (the test suite checks them against the command line's options).
DISTILLERY_ARGS = ["run", "--config", CONFIG, "--run-id", "nightly-{{ ds }}"]


def jvm_flags(path: str) -> str:
    """The values of conf/jvm.properties' distillery.jvm.* lines, as bin/jvm-flags prints them."""
    try:
        with open(path, encoding="utf-8") as f:
            return " ".join(line.split("=", 1)[1].strip() for line in f if re.match(r"distillery\.jvm\.[a-z]+=", line))
    except OSError:
        return ""


#: Read when the DAG is parsed.
JVM_FLAGS = jvm_flags(f"{HOME}/conf/jvm.properties")


class DistillerySubmitOperator(SparkSubmitOperator):
    """SparkSubmitOperator that tells distillery's exit codes apart: 1 is retried, 2, 3 and 4 are not."""

    def execute(self, context):
        try:
            return super().execute(context)
        except AirflowException as e:
            # SparkSubmitHook: "Cannot execute: <command>. Error code is: N."
            found = re.search(r"Error code is: (\d+)", str(e))
            code = int(found.group(1)) if found else 1
            if code in NOT_RETRIED:
                raise AirflowFailException(f"distillery exited {code}: {NOT_RETRIED[code]}") from e
            raise


with DAG(
    dag_id="distillery_nightly",
    schedule="30 1 * * *",
    start_date=datetime(2026, 12, 1),
    catchup=False,
    max_active_runs=1,
    default_args={"retries": 2, "retry_delay": timedelta(minutes=15), "email_on_failure": True},
    tags=["distillery"],
) as dag:
    DistillerySubmitOperator(
        task_id="distill",
        conn_id="spark_yarn",
        application=f"{HOME}/pipeline-jobs/target/pipeline-jobs-0.1.0-SNAPSHOT-all.jar",
        java_class="io.distillery.jobs.cli.DistilleryCli",
        application_args=DISTILLERY_ARGS,
        name="distillery-nightly-{{ ds }}",
        files=f"{HOME}/conf/log4j2.properties",
        num_executors=8,
        executor_cores=4,
        executor_memory="8g",
        driver_memory="8g",
        conf={
            "spark.executor.memoryOverhead": "4g",
            "spark.driver.extraJavaOptions": f"{JVM_FLAGS} -Dlog4j2.configurationFile={HOME}/conf/log4j2.properties",
            "spark.executor.extraJavaOptions": f"{JVM_FLAGS} -Dlog4j2.configurationFile=log4j2.properties",
            "spark.executorEnv.OMP_NUM_THREADS": "1",
        },
        env_vars={"OMP_NUM_THREADS": "1"},
    )
