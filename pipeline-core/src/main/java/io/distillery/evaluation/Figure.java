package io.distillery.evaluation;

/** A chart in the evaluation report: a PNG with its title and a one-line reading guide. */
public record Figure(String title, String caption, byte[] png) {}
