package weir.kstreams;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.EmitStrategy;
import org.apache.kafka.streams.kstream.KGroupedStream;
import org.apache.kafka.streams.kstream.KStream;
import org.apache.kafka.streams.kstream.KTable;
import org.apache.kafka.streams.kstream.Materialized;
import org.apache.kafka.streams.kstream.Produced;
import org.apache.kafka.streams.kstream.SessionWindows;
import org.apache.kafka.streams.kstream.SlidingWindows;
import org.apache.kafka.streams.kstream.TimeWindows;
import org.apache.kafka.streams.kstream.Windowed;
import org.apache.kafka.streams.state.SessionStore;
import org.apache.kafka.streams.state.WindowStore;

/**
 * Windowed counts with final results (EmitStrategy.onWindowClose), the Kafka Streams side of
 * weir's window differential test and of the windowed benchmark. See tests/kstreams/README.md.
 *
 * <p>One source stream, grouped by its key, counted in each window kind asked for; each count
 * goes to its own topic as a String key "key@start/end" and a String value (the decimal count),
 * so that weir's output with window.key.format = text compares as plain text.
 */
public final class WindowCounts {
  private static final String KINDS = "tumbling,hopping,sliding,session";

  /*
   * Stores keep a day (what Kafka Streams' changelogs add anyway), not the default size + grace:
   * a store's segments are max(retention / 2, 60 s) wide, and the first final-result emission
   * walks the record cache segment by segment from time 0. With 5 s windows on today's epoch
   * times that walk took 43 s of one thread before the first record; with a day, milliseconds.
   * Which windows are final, and when, does not depend on retention (only on size and grace).
   */
  private static final Duration RETENTION = Duration.ofDays(1);

  private WindowCounts() {}

  /** The command line, parsed. */
  static final class Options {
    String bootstrap;
    String appId;
    String input;
    String outputPrefix;
    String output;
    String windows = KINDS;
    long sizeMs = -1;
    long advanceMs = -1;
    long gapMs = -1;
    long graceMs = 0;
    int threads = 1;
    int commitMs = 100;
    String stateDir;
    String readyFile;
    long timeoutSec = 600;
    boolean binaryValues;
    long emitCheckMs = 0;
  }

  private static void usage(String why) {
    System.err.println("weir-kstreams-windows: " + why);
    System.err.println(
        "usage: WindowCounts --bootstrap ADDR --app-id ID --input TOPIC (--output-prefix P|--output T)\n"
            + "         [--windows "
            + KINDS
            + "] --size-ms N [--advance-ms N] [--gap-ms N]\n"
            + "         [--grace-ms N] [--threads N] [--commit-interval-ms N] [--state-dir DIR]\n"
            + "         [--ready-file PATH] [--timeout-sec N] [--long-values] [--emit-check-ms N]\n"
            + "  each window kind K writes to topic P-K (made with the input's partitions if missing);\n"
            + "  --long-values: counts as 8-byte big-endian longs instead of decimal strings");
    System.exit(2);
  }

  private static long millis(String name, String v) {
    try {
      long n = Long.parseLong(v);
      if (n < 0) {
        usage(name + " must not be negative: " + v);
      }
      return n;
    } catch (NumberFormatException e) {
      usage(name + " is not a number: " + v);
      return -1;
    }
  }

  static Options parse(String[] args) {
    Options o = new Options();
    for (int i = 0; i < args.length; i++) {
      String a = args[i];
      if (a.equals("--long-values")) {
        o.binaryValues = true;
        continue;
      }
      if (i + 1 >= args.length) {
        usage(a + " needs a value");
      }
      String v = args[++i];
      switch (a) {
        case "--bootstrap" -> o.bootstrap = v;
        case "--app-id" -> o.appId = v;
        case "--input" -> o.input = v;
        case "--output-prefix" -> o.outputPrefix = v;
        case "--output" -> o.output = v;
        case "--windows" -> o.windows = v;
        case "--size-ms" -> o.sizeMs = millis(a, v);
        case "--advance-ms" -> o.advanceMs = millis(a, v);
        case "--gap-ms" -> o.gapMs = millis(a, v);
        case "--grace-ms" -> o.graceMs = millis(a, v);
        case "--threads" -> o.threads = (int) millis(a, v);
        case "--commit-interval-ms" -> o.commitMs = (int) millis(a, v);
        case "--state-dir" -> o.stateDir = v;
        case "--ready-file" -> o.readyFile = v;
        case "--timeout-sec" -> o.timeoutSec = millis(a, v);
        case "--emit-check-ms" -> o.emitCheckMs = millis(a, v);
        default -> usage("unknown option " + a);
      }
    }
    if (o.bootstrap == null || o.appId == null || o.input == null) {
      usage("--bootstrap, --app-id and --input are required");
    }
    if ((o.outputPrefix == null) == (o.output == null)) {
      usage("give --output-prefix P (topics P-KIND) or --output TOPIC (one kind), not both");
    }
    if (o.output != null && o.windows.contains(",")) {
      usage("--output TOPIC takes one --windows kind; use --output-prefix for several");
    }
    for (String k : o.windows.split(",")) {
      if (!List.of(KINDS.split(",")).contains(k)) {
        usage("unknown window kind '" + k + "' (one of " + KINDS + ")");
      }
      boolean needsSize = !k.equals("session");
      if (needsSize && o.sizeMs <= 0) {
        usage(k + " windows need --size-ms");
      }
      if (k.equals("hopping") && o.advanceMs <= 0) {
        usage("hopping windows need --advance-ms");
      }
      if (k.equals("session") && o.gapMs <= 0) {
        usage("session windows need --gap-ms");
      }
    }
    return o;
  }

  static String outputTopic(Options o, String kind) {
    return o.output != null ? o.output : o.outputPrefix + "-" + kind;
  }

  /** "key@start/end": what weir writes with window.key.format = text. */
  static String textKey(Windowed<String> w) {
    return w.key() + "@" + w.window().start() + "/" + w.window().end();
  }

  private static void sink(KTable<Windowed<String>, Long> counts, String topic, boolean longs) {
    KStream<String, Long> out = counts.toStream((w, n) -> textKey(w));
    if (longs) {
      out.to(topic, Produced.with(Serdes.String(), Serdes.Long()));
    } else {
      out.mapValues(n -> Long.toString(n)).to(topic, Produced.with(Serdes.String(), Serdes.String()));
    }
  }

  /** One count per window kind, each with its own store, all from the one source. */
  static Topology topology(Options o) {
    StreamsBuilder b = new StreamsBuilder();
    KGroupedStream<String, String> grouped =
        b.stream(o.input, Consumed.with(Serdes.String(), Serdes.String())).groupByKey();
    Duration size = Duration.ofMillis(Math.max(o.sizeMs, 1));
    Duration grace = Duration.ofMillis(o.graceMs);
    EmitStrategy fin = EmitStrategy.onWindowClose();
    for (String k : o.windows.split(",")) {
      String topic = outputTopic(o, k);
      String store = k + "-counts";
      KTable<Windowed<String>, Long> counts =
          switch (k) {
            case "tumbling" -> grouped
                .windowedBy(TimeWindows.ofSizeAndGrace(size, grace))
                .emitStrategy(fin)
                .count(Materialized.<String, Long, WindowStore<Bytes, byte[]>>as(store).withRetention(RETENTION));
            case "hopping" -> grouped
                .windowedBy(
                    TimeWindows.ofSizeAndGrace(size, grace)
                        .advanceBy(Duration.ofMillis(o.advanceMs)))
                .emitStrategy(fin)
                .count(Materialized.<String, Long, WindowStore<Bytes, byte[]>>as(store).withRetention(RETENTION));
            case "sliding" -> grouped
                .windowedBy(SlidingWindows.ofTimeDifferenceAndGrace(size, grace))
                .emitStrategy(fin)
                .count(Materialized.<String, Long, WindowStore<Bytes, byte[]>>as(store).withRetention(RETENTION));
            default -> grouped
                .windowedBy(
                    SessionWindows.ofInactivityGapAndGrace(Duration.ofMillis(o.gapMs), grace))
                .emitStrategy(fin)
                .count(Materialized.<String, Long, SessionStore<Bytes, byte[]>>as(store).withRetention(RETENTION));
          };
      sink(counts, topic, o.binaryValues);
    }
    return b.build();
  }

  static Properties config(Options o, Path stateDir) {
    Properties p = new Properties();
    p.put(StreamsConfig.APPLICATION_ID_CONFIG, o.appId);
    p.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, o.bootstrap);
    p.put(StreamsConfig.STATE_DIR_CONFIG, stateDir.toString());
    p.put(StreamsConfig.NUM_STREAM_THREADS_CONFIG, o.threads);
    p.put(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, o.commitMs);
    p.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, StreamsConfig.AT_LEAST_ONCE);
    p.put(StreamsConfig.REPLICATION_FACTOR_CONFIG, 1);
    p.put(StreamsConfig.consumerPrefix(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG), "earliest");
    p.put(StreamsConfig.producerPrefix(ProducerConfig.COMPRESSION_TYPE_CONFIG), "lz4");
    // Kafka Streams checks whether windows closed at most once a second of wall-clock time
    // (an internal setting, default 1000 ms): the record that closes the last windows would
    // then often close nothing, and the final results would wait for a record that never comes.
    // 0 checks at every record; which windows are final does not change, only when.
    p.put("__emit.interval.ms.kstreams.windowed.aggregation__", o.emitCheckMs);
    return p;
  }

  /** Makes each missing output topic with the input's partition count. */
  private static void makeOutputs(Options o) throws InterruptedException, ExecutionException {
    Properties ap = new Properties();
    ap.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, o.bootstrap);
    try (Admin admin = Admin.create(ap)) {
      Map<String, TopicDescription> in;
      try {
        in = admin.describeTopics(List.of(o.input)).allTopicNames().get(30, TimeUnit.SECONDS);
      } catch (java.util.concurrent.TimeoutException | ExecutionException e) {
        throw new IllegalStateException(
            "input topic " + o.input + " on " + o.bootstrap + ": " + e.getMessage());
      }
      int partitions = in.get(o.input).partitions().size();
      List<NewTopic> topics = new ArrayList<>();
      for (String k : o.windows.split(",")) {
        topics.add(new NewTopic(outputTopic(o, k), partitions, (short) 1));
      }
      for (var e : admin.createTopics(topics).values().entrySet()) {
        try {
          e.getValue().get();
        } catch (ExecutionException ex) {
          if (!(ex.getCause() instanceof TopicExistsException)) {
            throw ex;
          }
        }
      }
    }
  }

  private static void removeTree(Path dir) {
    try (Stream<Path> s = Files.walk(dir)) {
      s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException e) {
      System.err.println("weir-kstreams-windows: cannot remove " + dir + ": " + e.getMessage());
    }
  }

  public static void main(String[] args) throws Exception {
    Options o = parse(args);
    try {
      makeOutputs(o);
    } catch (IllegalStateException e) {
      System.err.println("weir-kstreams-windows: " + e.getMessage());
      System.exit(1);
    }
    boolean ownDir = o.stateDir == null;
    Path stateDir =
        ownDir ? Files.createTempDirectory("weir-kstreams-windows-") : Path.of(o.stateDir);
    Topology t = topology(o);
    KafkaStreams streams = new KafkaStreams(t, config(o, stateDir));
    CountDownLatch done = new CountDownLatch(1);
    int[] status = {0};
    streams.setUncaughtExceptionHandler(
        e -> {
          System.err.println("weir-kstreams-windows: stream thread failed: " + e);
          status[0] = 1;
          done.countDown();
          return org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler
              .StreamThreadExceptionResponse.SHUTDOWN_CLIENT;
        });
    streams.setStateListener(
        (now, before) -> {
          if (now == KafkaStreams.State.RUNNING && o.readyFile != null) {
            try {
              Files.writeString(Path.of(o.readyFile), "running\n");
            } catch (IOException e) {
              System.err.println("weir-kstreams-windows: " + o.readyFile + ": " + e.getMessage());
            }
          }
          if (now == KafkaStreams.State.ERROR) {
            status[0] = 1;
            done.countDown();
          }
        });
    // SIGTERM: main closes the streams (and removes its state dir) while the hook waits for it.
    Thread main = Thread.currentThread();
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  done.countDown();
                  try {
                    main.join(40_000);
                  } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                  }
                }));
    streams.start();
    System.out.println("weir-kstreams-windows: started " + o.appId + " on " + o.bootstrap);
    System.out.flush();
    if (!done.await(o.timeoutSec, TimeUnit.SECONDS)) {
      System.err.println("weir-kstreams-windows: --timeout-sec " + o.timeoutSec + " reached");
      status[0] = 2;
    }
    streams.close(Duration.ofSeconds(30));
    if (ownDir) {
      removeTree(stateDir);
    }
    System.out.flush();
    Runtime.getRuntime().halt(status[0]);
  }
}
