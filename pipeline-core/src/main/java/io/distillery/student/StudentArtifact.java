package io.distillery.student;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;
import java.util.zip.ZipOutputStream;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.util.ModelSerializer;

/**
 * A student model as one file: DL4J's ModelSerializer zip, plus a {@value #VOCABULARY_ENTRY} entry holding
 * the student's vocabulary. DL4J reads its own entries and ignores ours, so the file still restores with
 * plain {@code ModelSerializer.restoreMultiLayerNetwork}.
 */
public record StudentArtifact(MultiLayerNetwork network, Vocabulary vocabulary) {
  public static final String VOCABULARY_ENTRY = "distillery/vocabulary.txt";

  public byte[] toBytes() {
    try {
      ByteArrayOutputStream dl4j = new ByteArrayOutputStream();
      ModelSerializer.writeModel(network, dl4j, false);
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      try (ZipInputStream in = new ZipInputStream(new ByteArrayInputStream(dl4j.toByteArray()));
          ZipOutputStream zip = new ZipOutputStream(out)) {
        for (ZipEntry e; (e = in.getNextEntry()) != null; ) {
          zip.putNextEntry(new ZipEntry(e.getName()));
          in.transferTo(zip);
          zip.closeEntry();
        }
        zip.putNextEntry(new ZipEntry(VOCABULARY_ENTRY));
        zip.write(vocabulary.toBytes());
        zip.closeEntry();
      }
      return out.toByteArray();
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot serialize the student", e);
    }
  }

  public static StudentArtifact fromBytes(byte[] bytes) {
    try {
      Vocabulary vocabulary = null;
      try (ZipInputStream in = new ZipInputStream(new ByteArrayInputStream(bytes))) {
        for (ZipEntry e; (e = in.getNextEntry()) != null; ) {
          if (e.getName().equals(VOCABULARY_ENTRY)) {
            vocabulary = Vocabulary.fromBytes(in.readAllBytes());
          }
        }
      }
      if (vocabulary == null) {
        throw new IllegalArgumentException("Not a Distillery student model: no " + VOCABULARY_ENTRY + " entry");
      }
      MultiLayerNetwork net = ModelSerializer.restoreMultiLayerNetwork(new ByteArrayInputStream(bytes), false);
      return new StudentArtifact(net, vocabulary);
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot restore the student model", e);
    }
  }
}
