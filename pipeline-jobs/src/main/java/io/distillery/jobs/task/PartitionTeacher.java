package io.distillery.jobs.task;

import io.distillery.provenance.TeacherIdentity;
import io.distillery.teacher.TeacherAnswer;
import java.io.Serializable;
import java.util.Collections;
import java.util.Iterator;
import java.util.Map;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * An in-process teacher as one partition of the generate stage sees it: it answers the partition's prompts one by
 * one, then hands over what it gathered beside the answers (the task's {@link Byproduct}, if it has one). Opened on
 * the executor, once per partition, over the JVM's one shared model.
 *
 * @param parameters the teacher's parameters that shape an answer to a prompt, for the request hash (e.g.
 *     "top-k=10"; a sampled one's seed)
 * @param answer the teacher's answer to one prompt; a failure throws and becomes a failed row
 * @param byproducts after the last answer: the by-product rows, by column name of {@link Byproduct#schema}
 */
public record PartitionTeacher(TeacherIdentity identity, Function<Prompt, String> parameters,
    Function<Prompt, TeacherAnswer> answer, Supplier<Iterator<Map<String, Object>>> byproducts) {

  /** A teacher that gathers nothing beside its answers. */
  public static PartitionTeacher answering(TeacherIdentity identity, Function<Prompt, String> parameters,
      Function<Prompt, TeacherAnswer> answer) {
    return new PartitionTeacher(identity, parameters, answer, Collections::emptyIterator);
  }

  /** A serializable recipe the executor opens the partition's teacher with. */
  @FunctionalInterface
  public interface Opener extends Serializable {
    PartitionTeacher open();
  }
}
