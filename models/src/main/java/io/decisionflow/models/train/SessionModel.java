package io.decisionflow.models.train;

import java.nio.file.Path;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.Session;
import org.tensorflow.Signature;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.types.TFloat32;

/** A trained graph and its session: scoring, export and closing, shared by every trainer. */
abstract class SessionModel implements TrainedModel {

  private final Graph graph;
  private final Session session;
  private final Placeholder<TFloat32> input;
  private final Operand<TFloat32> score;
  private final Signature signature;
  private final int features;
  private final float[] lossPerEpoch;
  private volatile boolean closed;

  SessionModel(
      Graph graph,
      Session session,
      Placeholder<TFloat32> input,
      Operand<TFloat32> score,
      Signature signature,
      int features,
      float[] lossPerEpoch) {
    this.graph = graph;
    this.session = session;
    this.input = input;
    this.score = score;
    this.signature = signature;
    this.features = features;
    this.lossPerEpoch = lossPerEpoch;
  }

  @Override
  public int featureCount() {
    return features;
  }

  /** Mean training cross-entropy of each epoch (averaged over its batches, without L2). */
  public float[] lossPerEpoch() {
    return lossPerEpoch.clone();
  }

  @Override
  public float[] predict(float[] x, int rows) {
    checkOpen();
    return Training.predict(session, input, score, x, rows, features);
  }

  @Override
  public void export(Path dir) {
    checkOpen();
    Training.export(session, signature, dir);
  }

  private void checkOpen() {
    if (closed) {
      throw new IllegalStateException("the trained model is closed");
    }
  }

  @Override
  public synchronized void close() {
    if (!closed) {
      closed = true;
      session.close();
      graph.close();
    }
  }
}
