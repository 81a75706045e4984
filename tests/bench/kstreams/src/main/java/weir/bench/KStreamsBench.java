package weir.bench;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.ListOffsetsResult;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.TopologyConfig;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.Grouped;
import org.apache.kafka.streams.kstream.KStream;
import org.apache.kafka.streams.kstream.Materialized;
import org.apache.kafka.streams.kstream.Produced;
import org.apache.kafka.streams.processor.StateRestoreListener;

/**
 * Kafka Streams peer for weir's benchmarks.
 *
 * <pre>
 * --bootstrap ADDR --mode passthrough|wordcount --input TOPIC --output TOPIC
 * --expect N --app-id ID [--threads 1] [--commit-interval-ms 1000]
 * [--timeout-sec 600] [--partitions P] [--state-dir DIR] [--exactly-once] [--until-stopped]
 * [--restore-log]
 * </pre>
 *
 * passthrough: stream(input).to(output), byte-array serdes. Done when the output
 * topic has grown by N records (sum of end offsets).
 * wordcount: split values on whitespace, groupBy word, count (RocksDB, default record
 * cache), toStream().to(output) with String keys and Long values.
 * Done when the input holds at least N records and the application's committed
 * offsets reached the end offsets of the input and of its repartition topics.
 * --until-stopped: never done; runs until SIGTERM (weir-bench watches the output
 * itself and stops the process, as it stops weir).
 * --restore-log: a line on stderr as each store-partition's restore ends, in the shape
 * of weir's, so weir-bench times both restores from their logs alike:
 * 2026-01-02T03:04:05.678Z INFO restore: store 'S' partition P: N records from offset A
 * to B in T ms
 * Every producer compresses with lz4, as weir's and the baseline loop's do.
 *
 * Prints one line to stdout:
 * records=N seconds=S records_per_sec=R elapsed_from_start=A elapsed_from_first_input=B
 * elapsed_from_first_output=C
 * where seconds = elapsed_from_first_input (processing time without start-up and
 * group join) and records_per_sec = records / seconds. Logs go to stderr.
 * Exit status: 0 done, 1 error, 2 timed out (the line is printed anyway).
 */
public final class KStreamsBench {
    private static final Pattern WHITESPACE = Pattern.compile("\\s+");

    /** Set by the topology when the first input record is seen (System.nanoTime()). */
    static final AtomicLong FIRST_INPUT_NANOS = new AtomicLong();

    /** Set by the shutdown hook (SIGTERM): the streams stopping is then no error. */
    static volatile boolean stopping;

    private KStreamsBench() {}

    public static void main(String[] argv) throws Exception {
        System.setProperty("org.slf4j.simpleLogger.defaultLogLevel",
                System.getProperty("org.slf4j.simpleLogger.defaultLogLevel", "warn"));
        System.setProperty("org.slf4j.simpleLogger.logFile", "System.err");
        Map<String, String> a;
        try {
            a = parse(argv);
        } catch (IllegalArgumentException e) {
            System.err.println("kstreams-bench: " + e.getMessage());
            usage();
            System.exit(1);
            return;
        }
        System.exit(run(a));
    }

    private static void usage() {
        System.err.println("usage: java -jar weir-kstreams-bench.jar --bootstrap ADDR"
                + " --mode passthrough|wordcount --input TOPIC --output TOPIC --expect N --app-id ID\n"
                + "       [--threads 1] [--commit-interval-ms 1000] [--timeout-sec 600]"
                + " [--partitions P] [--state-dir DIR] [--exactly-once] [--until-stopped]"
                + " [--restore-log]");
    }

    private static Map<String, String> parse(String[] argv) {
        Set<String> valued = Set.of("--bootstrap", "--mode", "--input", "--output", "--expect",
                "--app-id", "--threads", "--commit-interval-ms", "--timeout-sec", "--partitions",
                "--state-dir");
        Set<String> flags = Set.of("--exactly-once", "--until-stopped", "--restore-log", "--help");
        Map<String, String> m = new HashMap<>();
        for (int i = 0; i < argv.length; i++) {
            String k = argv[i];
            if (flags.contains(k)) {
                m.put(k, "true");
            } else if (valued.contains(k)) {
                if (i + 1 >= argv.length) throw new IllegalArgumentException(k + " needs a value");
                m.put(k, argv[++i]);
            } else {
                throw new IllegalArgumentException("unknown argument " + k);
            }
        }
        if (m.containsKey("--help")) {
            usage();
            System.exit(0);
        }
        for (String req : List.of("--bootstrap", "--mode", "--input", "--output", "--expect", "--app-id")) {
            if (!m.containsKey(req)) throw new IllegalArgumentException(req + " is required");
        }
        String mode = m.get("--mode");
        if (!mode.equals("passthrough") && !mode.equals("wordcount")) {
            throw new IllegalArgumentException("--mode must be passthrough or wordcount");
        }
        return m;
    }

    private static long num(Map<String, String> a, String k, long dflt) {
        String v = a.get(k);
        if (v == null) return dflt;
        try {
            return Long.parseLong(v);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(k + ": not a number: " + v);
        }
    }

    static int run(Map<String, String> a) throws Exception {
        final String bootstrap = a.get("--bootstrap");
        final String mode = a.get("--mode");
        final String input = a.get("--input");
        final String output = a.get("--output");
        final String appId = a.get("--app-id");
        final long expect = num(a, "--expect", 0);
        final long timeoutSec = num(a, "--timeout-sec", 600);
        final int threads = (int) num(a, "--threads", 1);
        final long commitMs = num(a, "--commit-interval-ms", 1000);
        final boolean wordcount = mode.equals("wordcount");
        final boolean untilStopped = a.containsKey("--until-stopped");

        Properties ap = new Properties();
        ap.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        ap.put(AdminClientConfig.CLIENT_ID_CONFIG, appId + "-bench-admin");
        try (Admin admin = Admin.create(ap)) {
            List<TopicPartition> inParts = partitions(admin, input);
            if (inParts == null) {
                System.err.println("kstreams-bench: input topic " + input + " does not exist");
                return 1;
            }
            List<TopicPartition> outParts = partitions(admin, output);
            if (outParts == null) {
                int p = (int) num(a, "--partitions", inParts.size());
                admin.createTopics(List.of(new NewTopic(output, p, (short) 1))).all().get(30, TimeUnit.SECONDS);
                outParts = waitPartitions(admin, output);
            }
            final Map<TopicPartition, Long> outBase = endOffsets(admin, outParts);
            final long outBaseSum = sum(outBase);

            Path stateDir;
            boolean ownStateDir = !a.containsKey("--state-dir");
            stateDir = ownStateDir ? Files.createTempDirectory("weir-kstreams-bench-")
                                   : Path.of(a.get("--state-dir"));

            Properties p = new Properties();
            p.put(StreamsConfig.APPLICATION_ID_CONFIG, appId);
            p.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
            p.put(StreamsConfig.NUM_STREAM_THREADS_CONFIG, threads);
            p.put(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, commitMs);
            p.put(StreamsConfig.STATE_DIR_CONFIG, stateDir.toString());
            p.put(StreamsConfig.DEFAULT_KEY_SERDE_CLASS_CONFIG, Serdes.ByteArraySerde.class);
            p.put(StreamsConfig.DEFAULT_VALUE_SERDE_CLASS_CONFIG, Serdes.ByteArraySerde.class);
            p.put(StreamsConfig.REPLICATION_FACTOR_CONFIG, 1);
            // 4.4 warns at start-up unless this is set (it becomes the default in 5.0).
            p.put("processing.exception.handler.global.enabled", true);
            if (a.containsKey("--exactly-once")) {
                p.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, StreamsConfig.EXACTLY_ONCE_V2);
            }
            p.put(StreamsConfig.consumerPrefix(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG), "earliest");
            // As weir's and the baseline loop's producers: the same bytes on the wire.
            p.put(StreamsConfig.producerPrefix(ProducerConfig.COMPRESSION_TYPE_CONFIG), "lz4");

            StreamsBuilder b = new StreamsBuilder(new TopologyConfig(new StreamsConfig(p)));
            if (wordcount) {
                KStream<byte[], String> in = b.stream(input, Consumed.with(Serdes.ByteArray(), Serdes.String()));
                in.peek((k, v) -> markFirstInput())
                  .flatMapValues(v -> v == null ? List.<String>of()
                          : Arrays.stream(WHITESPACE.split(v))
                                  .filter(w -> !w.isEmpty()).collect(Collectors.toList()))
                  .groupBy((k, w) -> w, Grouped.with("words", Serdes.String(), Serdes.String()))
                  .count(Materialized.as("counts"))
                  .toStream()
                  .to(output, Produced.with(Serdes.String(), Serdes.Long()));
            } else {
                KStream<byte[], byte[]> in = b.stream(input, Consumed.with(Serdes.ByteArray(), Serdes.ByteArray()));
                in.peek((k, v) -> markFirstInput())
                  .to(output, Produced.with(Serdes.ByteArray(), Serdes.ByteArray()));
            }

            final AtomicReference<Throwable> failure = new AtomicReference<>();
            KafkaStreams streams = new KafkaStreams(b.build(), p);
            if (a.containsKey("--restore-log")) streams.setGlobalStateRestoreListener(new RestoreLog());
            streams.setUncaughtExceptionHandler(e -> {
                failure.compareAndSet(null, e);
                return org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler
                        .StreamThreadExceptionResponse.SHUTDOWN_CLIENT;
            });

            final long t0 = System.nanoTime();
            final long deadline = t0 + TimeUnit.SECONDS.toNanos(timeoutSec);
            long firstOutput = 0;
            long records = 0;
            boolean done = false;
            int rc = 0;
            // SIGTERM (how weir-bench stops it) skips the finally below: close and clean up here.
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                stopping = true;
                streams.close(Duration.ofSeconds(10));
                if (ownStateDir) cleanUp(streams, stateDir);
            }));
            streams.start();
            try {
                final List<TopicPartition> outFinal = outParts;
                while (true) {
                    Thread.sleep(100);
                    long now = System.nanoTime();
                    if (stopping) break;
                    if (failure.get() != null) {
                        System.err.println("kstreams-bench: stream thread failed: " + failure.get());
                        rc = 1;
                        break;
                    }
                    KafkaStreams.State st = streams.state();
                    if (st == KafkaStreams.State.ERROR || st == KafkaStreams.State.NOT_RUNNING
                            || st == KafkaStreams.State.PENDING_ERROR) {
                        System.err.println("kstreams-bench: streams in state " + st);
                        rc = 1;
                        break;
                    }
                    long produced = sum(endOffsets(admin, outFinal)) - outBaseSum;
                    if (produced > 0 && firstOutput == 0) firstOutput = now;
                    if (untilStopped) {
                        records = produced;
                    } else if (!wordcount) {
                        records = Math.min(produced, expect);
                        if (produced >= expect) {
                            done = true;
                            break;
                        }
                    } else {
                        long[] r = wordcountProgress(admin, appId, inParts);
                        records = r[1];
                        if (r[0] >= expect && r[1] >= r[0] && r[2] == 0) {
                            done = true;
                            break;
                        }
                    }
                    if (now > deadline) {
                        System.err.println("kstreams-bench: timed out after " + timeoutSec + " s");
                        rc = 2;
                        break;
                    }
                }
            } finally {
                long end = System.nanoTime();
                long fi = FIRST_INPUT_NANOS.get();
                double fromStart = (end - t0) / 1e9;
                double fromFirstIn = fi == 0 ? 0 : (end - fi) / 1e9;
                double fromFirstOut = firstOutput == 0 ? 0 : (end - firstOutput) / 1e9;
                double secs = fromFirstIn;
                double rate = secs > 0 ? records / secs : 0;
                if (done || rc == 2) {
                    System.out.printf(Locale.ROOT,
                            "records=%d seconds=%.3f records_per_sec=%.0f elapsed_from_start=%.3f"
                                    + " elapsed_from_first_input=%.3f elapsed_from_first_output=%.3f%n",
                            records, secs, rate, fromStart, fromFirstIn, fromFirstOut);
                    System.out.flush();
                }
                streams.close(Duration.ofSeconds(30));
                if (ownStateDir) cleanUp(streams, stateDir);
            }
            return rc;
        }
    }

    /** Removes the state dir; cleanUp() refuses while a close timed out, the delete does not. */
    private static void cleanUp(KafkaStreams streams, Path stateDir) {
        if (!Files.exists(stateDir)) return; // done already: main's finally, then the hook at exit
        try {
            streams.cleanUp();
        } catch (RuntimeException e) {
            System.err.println("kstreams-bench: cleanUp: " + e.getMessage());
        }
        deleteTree(stateDir);
    }

    /** Prints each store-partition's restore as weir logs its own (see --restore-log). */
    static final class RestoreLog implements StateRestoreListener {
        private static final DateTimeFormatter TIME =
                DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSS'Z'").withZone(ZoneOffset.UTC);
        private final Map<TopicPartition, long[]> begun = new ConcurrentHashMap<>();

        @Override
        public void onRestoreStart(TopicPartition tp, String store, long start, long end) {
            begun.put(tp, new long[] {System.nanoTime(), start, end});
        }

        @Override
        public void onBatchRestored(TopicPartition tp, String store, long batchEnd, long n) {}

        @Override
        public void onRestoreEnd(TopicPartition tp, String store, long total) {
            long[] b = begun.remove(tp);
            if (b == null) return;
            long ms = (System.nanoTime() - b[0]) / 1_000_000;
            System.err.printf(Locale.ROOT,
                    "%s INFO restore: store '%s' partition %d: %d records from offset %d to %d in %d ms%n",
                    TIME.format(Instant.now()), store, tp.partition(), total, b[1], b[2], ms);
            System.err.flush();
        }
    }

    static void markFirstInput() {
        if (FIRST_INPUT_NANOS.get() == 0) FIRST_INPUT_NANOS.compareAndSet(0, System.nanoTime());
    }

    /**
     * Word count progress: {input records (sum of end offsets), input records committed,
     * records still pending in repartition topics}.
     */
    private static long[] wordcountProgress(Admin admin, String appId, List<TopicPartition> inParts)
            throws Exception {
        Map<TopicPartition, OffsetAndMetadata> committed = admin.listConsumerGroupOffsets(appId)
                .partitionsToOffsetAndMetadata().get(30, TimeUnit.SECONDS);
        List<TopicPartition> all = new ArrayList<>(inParts);
        for (TopicPartition tp : committed.keySet()) {
            if (tp.topic().endsWith("-repartition") && !all.contains(tp)) all.add(tp);
        }
        Map<TopicPartition, Long> ends = endOffsets(admin, all);
        long inEnd = 0, inDone = 0, pending = 0;
        for (TopicPartition tp : all) {
            long e = ends.getOrDefault(tp, 0L);
            OffsetAndMetadata c = committed.get(tp);
            long co = c == null ? 0 : c.offset();
            if (inParts.contains(tp)) {
                inEnd += e;
                inDone += Math.min(co, e);
            } else {
                pending += Math.max(0, e - co);
            }
        }
        return new long[] {inEnd, inDone, pending};
    }

    private static List<TopicPartition> partitions(Admin admin, String topic) throws Exception {
        try {
            TopicDescription d = admin.describeTopics(List.of(topic)).allTopicNames()
                    .get(30, TimeUnit.SECONDS).get(topic);
            List<TopicPartition> l = new ArrayList<>();
            d.partitions().forEach(pi -> l.add(new TopicPartition(topic, pi.partition())));
            return l;
        } catch (java.util.concurrent.ExecutionException e) {
            if (e.getCause() instanceof UnknownTopicOrPartitionException) return null;
            throw e;
        }
    }

    private static List<TopicPartition> waitPartitions(Admin admin, String topic) throws Exception {
        for (int i = 0; i < 300; i++) {
            List<TopicPartition> l = partitions(admin, topic);
            if (l != null) return l;
            Thread.sleep(100);
        }
        throw new IllegalStateException("topic " + topic + " did not appear");
    }

    private static Map<TopicPartition, Long> endOffsets(Admin admin, Collection<TopicPartition> tps)
            throws Exception {
        Map<TopicPartition, OffsetSpec> q = new HashMap<>();
        for (TopicPartition tp : tps) q.put(tp, OffsetSpec.latest());
        Map<TopicPartition, ListOffsetsResult.ListOffsetsResultInfo> r =
                admin.listOffsets(q).all().get(30, TimeUnit.SECONDS);
        Map<TopicPartition, Long> m = new HashMap<>();
        r.forEach((tp, info) -> m.put(tp, info.offset()));
        return m;
    }

    private static long sum(Map<TopicPartition, Long> m) {
        long s = 0;
        for (long v : m.values()) s += v;
        return s;
    }

    private static void deleteTree(Path p) {
        if (!Files.exists(p)) return;
        try (Stream<Path> w = Files.walk(p)) {
            w.sorted(Comparator.reverseOrder()).map(Path::toFile).forEach(File::delete);
        } catch (IOException e) {
            System.err.println("kstreams-bench: could not remove " + p + ": " + e);
        }
    }
}
