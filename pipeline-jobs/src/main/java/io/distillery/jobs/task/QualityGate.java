package io.distillery.jobs.task;

import org.apache.spark.sql.Column;

/**
 * A task's rule for which teacher answers go to teacher-quarantine instead of its dataset, as Spark expressions over
 * the answered rows (window functions allowed, e.g. for duplicates).
 *
 * @param reason the row's quarantine reason, or null to keep it
 * @param answer the answer as text, for the quarantine row
 */
public record QualityGate(Column reason, Column answer) {}
