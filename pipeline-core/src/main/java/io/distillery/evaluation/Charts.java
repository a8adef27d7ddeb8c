package io.distillery.evaluation;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;
import java.util.Map;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.CategoryChartBuilder;
import org.knowm.xchart.CategorySeries;
import org.knowm.xchart.HeatMapChart;
import org.knowm.xchart.HeatMapChartBuilder;
import org.knowm.xchart.internal.chartpart.Chart;

/** Report charts, rendered to PNG with XChart (headless). */
public final class Charts {
  static {
    System.setProperty("java.awt.headless", "true");
  }

  private Charts() {}

  /** Bar chart of counts per bin; {@code labels} and {@code counts} have the same length. */
  public static byte[] histogram(String title, String xTitle, List<String> labels, List<Long> counts) {
    return bars(title, xTitle, "rows", labels, counts);
  }

  /** Bar chart of one value per label; {@code labels} and {@code values} have the same length. */
  public static byte[] bars(String title, String xTitle, String yTitle, List<String> labels,
      List<? extends Number> values) {
    CategoryChart chart = new CategoryChartBuilder().width(720).height(360).title(title)
        .xAxisTitle(xTitle).yAxisTitle(yTitle).build();
    chart.getStyler().setLegendVisible(false);
    chart.getStyler().setXAxisLabelRotation(60);
    chart.addSeries(yTitle, labels, values);
    return png(chart);
  }

  /** Lines over categories (e.g. one value per night): one series per entry, values in category order. */
  public static byte[] lines(String title, String xTitle, List<String> categories, Map<String, List<Double>> series) {
    CategoryChart chart = new CategoryChartBuilder().width(720).height(300).title(title).xAxisTitle(xTitle).build();
    chart.getStyler().setDefaultSeriesRenderStyle(CategorySeries.CategorySeriesRenderStyle.Line);
    chart.getStyler().setXAxisLabelRotation(categories.size() > 4 ? 45 : 0);
    chart.getStyler().setDecimalPattern("#,##0.###");
    series.forEach((name, values) -> chart.addSeries(name, categories, values));
    return png(chart);
  }

  /**
   * Heat map of counts over a grid: {@code cells} holds {x index, y index, count} triples.
   */
  public static byte[] heatMap(String title, String xTitle, String yTitle, List<String> xLabels,
      List<String> yLabels, List<Number[]> cells) {
    HeatMapChart chart = new HeatMapChartBuilder().width(560).height(520).title(title)
        .xAxisTitle(xTitle).yAxisTitle(yTitle).build();
    chart.getStyler().setPlotContentSize(1);
    chart.getStyler().setShowValue(false);
    chart.getStyler().setHeatMapDecimalValueFormatter(v -> String.format("%,.0f", v)); // legend: counts, not doubles
    chart.getStyler().setXAxisLabelRotation(90);
    chart.addSeries("pairs", xLabels, yLabels, cells);
    return png(chart);
  }

  private static byte[] png(Chart<?, ?> chart) {
    try {
      return BitmapEncoder.getBitmapBytes(chart, BitmapEncoder.BitmapFormat.PNG);
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot render chart", e);
    }
  }
}
