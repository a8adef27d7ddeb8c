package io.distillery.jobs.spark;

import java.util.Iterator;
import java.util.NoSuchElementException;
import java.util.Spliterator;
import java.util.Spliterators;
import java.util.function.Function;
import java.util.function.Supplier;
import java.util.stream.Stream;
import java.util.stream.StreamSupport;

/** Lazy per-element transforms of a partition's iterator: executor functions stream, they never buffer it. */
public final class Iterators {
  private Iterators() {}

  public static <I, O> Iterator<O> map(Iterator<I> input, Function<I, O> f) {
    return stream(input).map(f).iterator();
  }

  public static <I, O> Iterator<O> flatMap(Iterator<I> input, Function<I, Stream<O>> f) {
    return stream(input).flatMap(f).iterator();
  }

  /**
   * {@code first}'s elements, then those of the iterator {@code then} makes once {@code first} is exhausted (not
   * before: it may read what iterating {@code first} built).
   */
  public static <T> Iterator<T> then(Iterator<T> first, Supplier<Iterator<T>> then) {
    return new Iterator<>() {
      private Iterator<T> second;

      @Override
      public boolean hasNext() {
        if (second == null) {
          if (first.hasNext()) {
            return true;
          }
          second = then.get();
        }
        return second.hasNext();
      }

      @Override
      public T next() {
        if (!hasNext()) {
          throw new NoSuchElementException();
        }
        return second == null ? first.next() : second.next();
      }
    };
  }

  private static <I> Stream<I> stream(Iterator<I> input) {
    return StreamSupport.stream(Spliterators.spliteratorUnknownSize(input, Spliterator.ORDERED), false);
  }
}
