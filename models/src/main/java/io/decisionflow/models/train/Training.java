package io.decisionflow.models.train;

import com.google.protobuf.CodedOutputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import org.tensorflow.Operand;
import org.tensorflow.Result;
import org.tensorflow.SavedModelBundle;
import org.tensorflow.Session;
import org.tensorflow.Signature;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.op.Op;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.proto.ConfigProto;
import org.tensorflow.proto.SavedModel;
import org.tensorflow.types.TFloat32;

/** What the trainers share: input checks, standardization, and the mini-batch loop. */
final class Training {

  private Training() {}

  /** Intra- and inter-op parallelism 1: one thread, one order of operations. */
  static ConfigProto singleThreaded() {
    return ConfigProto.newBuilder()
        .setIntraOpParallelismThreads(1)
        .setInterOpParallelismThreads(1)
        .build();
  }

  /**
   * Checks a training set.
   *
   * @throws IllegalArgumentException if the sizes do not match, a value is not finite, or a label
   *     is not 0 or 1
   */
  static void validate(float[] x, float[] y, int rows, int features) {
    if (rows < 1 || features < 1) {
      throw new IllegalArgumentException(
          "need at least 1 row and 1 feature, got " + rows + " rows of " + features + " features");
    }
    requireShape(x, rows, features);
    if (y == null || y.length != rows) {
      throw new IllegalArgumentException(
          "y has "
              + (y == null ? "no" : String.valueOf(y.length))
              + " labels for "
              + rows
              + " rows");
    }
    for (int i = 0; i < x.length; i++) {
      if (!Float.isFinite(x[i])) {
        throw new IllegalArgumentException(
            "x[" + i + "] (row " + i / features + ", feature " + i % features + ") is " + x[i]);
      }
    }
    for (int i = 0; i < y.length; i++) {
      if (y[i] != 0f && y[i] != 1f) {
        throw new IllegalArgumentException("y[" + i + "] must be 0 or 1, was " + y[i]);
      }
    }
  }

  static void requireShape(float[] x, int rows, int features) {
    if (x == null || rows < 0 || (long) rows * features != x.length) {
      throw new IllegalArgumentException(
          "x has "
              + (x == null ? "no" : String.valueOf(x.length))
              + " values but "
              + rows
              + " rows of "
              + features
              + " features need "
              + (long) rows * features);
    }
  }

  /** Per-feature mean and population standard deviation; 1 where a feature is constant. */
  static void standardization(float[] x, int rows, int features, float[] mean, float[] std) {
    double[] sum = new double[features];
    for (int r = 0; r < rows; r++) {
      for (int f = 0; f < features; f++) {
        sum[f] += x[r * features + f];
      }
    }
    double[] m = new double[features];
    for (int f = 0; f < features; f++) {
      m[f] = sum[f] / rows;
    }
    double[] sq = new double[features];
    for (int r = 0; r < rows; r++) {
      for (int f = 0; f < features; f++) {
        double d = x[r * features + f] - m[f];
        sq[f] += d * d;
      }
    }
    for (int f = 0; f < features; f++) {
      double s = Math.sqrt(sq[f] / rows);
      mean[f] = (float) m[f];
      std[f] = s > 1e-6 && Double.isFinite(s) ? (float) s : 1f;
    }
  }

  /**
   * Runs {@code epochs} passes of {@code minimize} over the rows in batches of {@code batchSize},
   * the rows shuffled before each pass by a {@link Random} seeded with {@code seed}.
   *
   * @return the mean of {@code loss} over each epoch's batches, weighted by batch size
   */
  static float[] run(
      Session session,
      Placeholder<TFloat32> input,
      Placeholder<TFloat32> labels,
      Op minimize,
      Operand<TFloat32> loss,
      float[] x,
      float[] y,
      int rows,
      int features,
      int epochs,
      int batchSize,
      long seed) {
    float[] lossPerEpoch = new float[epochs];
    int[] order = new int[rows];
    for (int i = 0; i < rows; i++) {
      order[i] = i;
    }
    Random random = new Random(seed);
    int batch = Math.min(batchSize, rows);
    float[] xb = new float[batch * features];
    float[] yb = new float[batch];
    for (int epoch = 0; epoch < epochs; epoch++) {
      shuffle(order, random);
      double lossSum = 0;
      for (int start = 0; start < rows; start += batch) {
        int n = Math.min(batch, rows - start);
        float[] xs = n == batch ? xb : new float[n * features];
        float[] ys = n == batch ? yb : new float[n];
        for (int r = 0; r < n; r++) {
          int row = order[start + r];
          System.arraycopy(x, row * features, xs, r * features, features);
          ys[r] = y[row];
        }
        try (TFloat32 xt =
                TFloat32.tensorOf(Shape.of(n, features), DataBuffers.of(xs, true, false));
            TFloat32 yt = TFloat32.tensorOf(Shape.of(n, 1), DataBuffers.of(ys, true, false));
            Result result =
                session
                    .runner()
                    .feed(input, xt)
                    .feed(labels, yt)
                    .addTarget(minimize)
                    .fetch(loss)
                    .run()) {
          lossSum += (double) ((TFloat32) result.get(0)).getFloat() * n;
        }
      }
      lossPerEpoch[epoch] = (float) (lossSum / rows);
    }
    return lossPerEpoch;
  }

  private static void shuffle(int[] a, Random random) {
    for (int i = a.length - 1; i > 0; i--) {
      int j = random.nextInt(i + 1);
      int t = a[i];
      a[i] = a[j];
      a[j] = t;
    }
  }

  /** Scores {@code rows} rows with a session's {@code score} fed through {@code input}. */
  static float[] predict(
      Session session,
      Placeholder<TFloat32> input,
      Operand<TFloat32> score,
      float[] x,
      int rows,
      int features) {
    requireShape(x, rows, features);
    float[] out = new float[rows];
    if (rows == 0) {
      return out;
    }
    try (TFloat32 xt = TFloat32.tensorOf(Shape.of(rows, features), DataBuffers.of(x, true, false));
        Result result = session.runner().feed(input, xt).fetch(score).run()) {
      ((TFloat32) result.get(0)).copyTo(DataBuffers.of(out, false, false));
    }
    return out;
  }

  /**
   * Exports a session's graph and variables as a SavedModel (tag {@code serve}) into {@code dir}.
   */
  static void export(Session session, Signature signature, Path dir) {
    try {
      SavedModelBundle.exporter(dir.toString())
          .withTags(SavedModelBundle.DEFAULT_TAG)
          .withSession(session)
          .withSignature(signature)
          .export();
      canonicalize(dir.resolve("saved_model.pb"));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot export model to " + dir, e);
    }
  }

  /**
   * Rewrites a {@code saved_model.pb} with deterministic Protobuf serialization (map entries such
   * as a node's attributes in key order), so that the same training gives the same bytes and the
   * same sha256: TensorFlow writes map entries in hash order, which differs from run to run.
   */
  static void canonicalize(Path savedModelPb) throws IOException {
    SavedModel model = SavedModel.parseFrom(Files.readAllBytes(savedModelPb));
    ByteArrayOutputStream bytes = new ByteArrayOutputStream(model.getSerializedSize());
    CodedOutputStream out = CodedOutputStream.newInstance(bytes);
    out.useDeterministicSerialization();
    model.writeTo(out);
    out.flush();
    Files.write(savedModelPb, bytes.toByteArray());
  }
}
