package io.gregor.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.gregor.testkit.Await;
import io.gregor.testkit.GregorCluster;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.ProducerFencedException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Transactions with the Java 4.2 clients on one node: commit, abort, read_committed, fencing. */
class TransactionsIT {
    static GregorCluster gregor;

    @BeforeAll
    static void start() throws Exception {
        gregor = GregorCluster.single().start();
    }

    @AfterAll
    static void stop() {
        gregor.close();
    }

    private static KafkaProducer<String, String> transactional(String id) {
        return gregor.producer("transactional.id", id, "transaction.timeout.ms", "30000");
    }

    /** Reads {@code partitions} from the start until {@code done} says enough, under {@code isolation}. */
    private static List<String> readAll(String topic, int partitions, String isolation, int expected) {
        List<String> values = new ArrayList<>();
        try (KafkaConsumer<String, String> consumer = gregor.consumer("isolation.level", isolation)) {
            List<TopicPartition> tps = new ArrayList<>();
            for (int p = 0; p < partitions; p++) {
                tps.add(new TopicPartition(topic, p));
            }
            consumer.assign(tps);
            consumer.seekToBeginning(tps);
            Await.until(expected + " records read " + isolation, Duration.ofSeconds(30), () -> {
                for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(200))) {
                    values.add(r.value());
                }
                return values.size() >= expected;
            });
            // Nothing more arrives: a poll after the expected count finds no extra record.
            consumer.poll(Duration.ofMillis(500)).forEach(r -> values.add(r.value()));
        }
        return values;
    }

    @Test
    void committedRecordsAreReadAndAbortedOnesAreNotUnderReadCommitted() throws Exception {
        gregor.createTopic("orders", 2, Map.of());
        try (KafkaProducer<String, String> producer = transactional("orders-tx")) {
            producer.initTransactions();
            producer.beginTransaction();
            for (int i = 0; i < 6; i++) {
                producer.send(new ProducerRecord<>("orders", i % 2, "k" + i, "committed-" + i));
            }
            producer.commitTransaction();
            producer.beginTransaction();
            for (int i = 0; i < 4; i++) {
                producer.send(new ProducerRecord<>("orders", i % 2, "k" + i, "aborted-" + i));
            }
            producer.flush();
            producer.abortTransaction();
            producer.beginTransaction();
            producer.send(new ProducerRecord<>("orders", 0, "k", "after-abort")).get();
            producer.commitTransaction();
        }
        List<String> committed = readAll("orders", 2, "read_committed", 7);
        assertThat(committed).hasSize(7).noneMatch(v -> v.startsWith("aborted")).contains("after-abort");
        List<String> everything = readAll("orders", 2, "read_uncommitted", 11);
        assertThat(everything).hasSize(11).filteredOn(v -> v.startsWith("aborted")).hasSize(4);
    }

    @Test
    void anOpenTransactionHoldsReadCommittedConsumersAtTheLastStableOffset() throws Exception {
        gregor.createTopic("held", 1, Map.of());
        try (KafkaProducer<String, String> open = transactional("held-tx");
             KafkaProducer<String, String> plain = gregor.producer()) {
            open.initTransactions();
            open.beginTransaction();
            open.send(new ProducerRecord<>("held", 0, "k", "in-transaction")).get();
            plain.send(new ProducerRecord<>("held", 0, "k", "plain-after")).get();
            // Kafka's Admin (kafka-transactions.sh) lists and describes the open transaction.
            var listed = gregor.admin().listTransactions().all().get();
            assertThat(listed).anySatisfy(t -> {
                assertThat(t.transactionalId()).isEqualTo("held-tx");
                assertThat(t.state()).isEqualTo(org.apache.kafka.clients.admin.TransactionState.ONGOING);
            });
            var described = gregor.admin().describeTransactions(List.of("held-tx")).all().get().get("held-tx");
            assertThat(described.state()).isEqualTo(org.apache.kafka.clients.admin.TransactionState.ONGOING);
            assertThat(described.topicPartitions()).containsExactly(new TopicPartition("held", 0));
            assertThat(described.transactionTimeoutMs()).isEqualTo(30_000);
            var producers = gregor.admin().describeProducers(List.of(new TopicPartition("held", 0))).all().get()
                    .get(new TopicPartition("held", 0)).activeProducers();
            assertThat(producers).anySatisfy(p -> {
                assertThat(p.producerId()).isEqualTo(described.producerId());
                assertThat(p.currentTransactionStartOffset()).hasValue(0L);
            });
            // The plain record is after the open transaction's first offset: read_committed sees neither yet.
            List<String> uncommitted = readAll("held", 1, "read_uncommitted", 2);
            assertThat(uncommitted).containsExactly("in-transaction", "plain-after");
            try (KafkaConsumer<String, String> consumer = gregor.consumer("isolation.level", "read_committed")) {
                TopicPartition tp = new TopicPartition("held", 0);
                consumer.assign(List.of(tp));
                consumer.seekToBeginning(List.of(tp));
                assertThat(consumer.poll(Duration.ofSeconds(2))).isEmpty();
                assertThat(consumer.endOffsets(List.of(tp)).get(tp)).as("latest for read_committed is the LSO").isZero();
            }
            open.commitTransaction();
        }
        assertThat(readAll("held", 1, "read_committed", 2)).containsExactly("in-transaction", "plain-after");
    }

    @Test
    void aSecondProducerWithTheSameTransactionalIdFencesTheFirst() throws Exception {
        gregor.createTopic("fenced", 1, Map.of());
        KafkaProducer<String, String> zombie = transactional("fence-tx");
        try (KafkaProducer<String, String> successor = transactional("fence-tx")) {
            zombie.initTransactions();
            zombie.beginTransaction();
            zombie.send(new ProducerRecord<>("fenced", 0, "k", "zombie")).get();
            successor.initTransactions(); // aborts the zombie's open transaction
            successor.beginTransaction();
            successor.send(new ProducerRecord<>("fenced", 0, "k", "successor")).get();
            successor.commitTransaction();
            assertThatThrownBy(zombie::commitTransaction).isInstanceOf(ProducerFencedException.class);
        } finally {
            zombie.close(Duration.ZERO);
        }
        assertThat(readAll("fenced", 1, "read_committed", 1)).containsExactly("successor");
    }

    @Test
    void confluentKafkaCommitsAndAbortsAndItsReadCommittedConsumerSeesOnlyTheCommitted() throws Exception {
        gregor.createTopic("payments", 1, Map.of());
        java.nio.file.Path script = java.nio.file.Files.createTempFile("txn", ".py");
        java.nio.file.Files.writeString(script, """
                import sys
                from confluent_kafka import Producer, Consumer, TopicPartition
                bootstrap = sys.argv[1]
                p = Producer({'bootstrap.servers': bootstrap, 'transactional.id': 'payments-tx'})
                p.init_transactions(30)
                p.begin_transaction()
                for i in range(5):
                    p.produce('payments', value=('paid-%d' % i).encode(), partition=0)
                p.commit_transaction(30)
                p.begin_transaction()
                for i in range(3):
                    p.produce('payments', value=('voided-%d' % i).encode(), partition=0)
                p.flush(30)
                p.abort_transaction(30)
                def read(isolation, want):
                    c = Consumer({'bootstrap.servers': bootstrap, 'group.id': 'g-' + isolation,
                                  'isolation.level': isolation, 'enable.auto.commit': False})
                    c.assign([TopicPartition('payments', 0, 0)])
                    got = []
                    idle = 0
                    while idle < 10:
                        m = c.poll(0.5)
                        if m is None or m.error():
                            idle += 1 if len(got) >= want else 0
                            continue
                        got.append(m.value().decode())
                    c.close()
                    return got
                committed = read('read_committed', 5)
                everything = read('read_uncommitted', 8)
                print('committed=' + ','.join(committed))
                print('everything=' + ','.join(everything))
                """);
        Subprocess.Result result = Subprocess.run(List.of(Subprocess.python(), script.toString(),
                gregor.bootstrapServers()), null, 120).assertOk();
        assertThat(result.stdout()).contains("committed=paid-0,paid-1,paid-2,paid-3,paid-4\n")
                .contains("everything=paid-0,paid-1,paid-2,paid-3,paid-4,voided-0,voided-1,voided-2\n");
    }

    @Test
    void consumeTransformProduceCommitsItsOffsetsWithItsOutputAndAnAbortLeavesThemAlone() throws Exception {
        gregor.createTopic("words", 1, Map.of());
        gregor.createTopic("shouted", 1, Map.of());
        try (KafkaProducer<String, String> plain = gregor.producer()) {
            for (int i = 0; i < 20; i++) {
                plain.send(new ProducerRecord<>("words", 0, "k" + i, "word-" + i));
            }
            plain.flush();
        }
        TopicPartition in = new TopicPartition("words", 0);
        try (KafkaConsumer<String, String> consumer = gregor.consumer("group.id", "shouter",
                "isolation.level", "read_committed", "enable.auto.commit", "false", "auto.offset.reset", "earliest");
             KafkaProducer<String, String> producer = transactional("shouter-tx")) {
            producer.initTransactions();
            consumer.subscribe(List.of("words"));
            List<ConsumerRecord<String, String>> batch = new ArrayList<>();
            Await.until("20 input records", Duration.ofSeconds(30), () -> {
                consumer.poll(Duration.ofMillis(200)).forEach(batch::add);
                return batch.size() >= 20;
            });
            producer.beginTransaction();
            for (ConsumerRecord<String, String> r : batch.subList(0, 15)) {
                producer.send(new ProducerRecord<>("shouted", 0, r.key(), r.value().toUpperCase()));
            }
            producer.sendOffsetsToTransaction(Map.of(in, new org.apache.kafka.clients.consumer.OffsetAndMetadata(15)),
                    consumer.groupMetadata());
            producer.commitTransaction();
            // The next five are processed but the transaction aborts: neither output nor offsets count.
            producer.beginTransaction();
            for (ConsumerRecord<String, String> r : batch.subList(15, 20)) {
                producer.send(new ProducerRecord<>("shouted", 0, r.key(), r.value().toUpperCase()));
            }
            producer.sendOffsetsToTransaction(Map.of(in, new org.apache.kafka.clients.consumer.OffsetAndMetadata(20)),
                    consumer.groupMetadata());
            producer.abortTransaction();
        }
        assertThat(committedOffset("shouter", in)).isEqualTo(15);
        List<String> output = readAll("shouted", 1, "read_committed", 15);
        assertThat(output).hasSize(15).allMatch(v -> v.startsWith("WORD-"));
        // The group's offset survives a restart: the transactional records and their marker are replayed.
        gregor.restart();
        assertThat(committedOffset("shouter", in)).isEqualTo(15);
    }

    private static long committedOffset(String group, TopicPartition tp) throws Exception {
        long[] found = {-1};
        Await.until("the committed offset of " + group, Duration.ofSeconds(30), () -> {
            try {
                var offsets = gregor.admin().listConsumerGroupOffsets(group).partitionsToOffsetAndMetadata().get();
                var offset = offsets.get(tp);
                found[0] = offset == null ? -1 : offset.offset();
                return offset != null;
            } catch (java.util.concurrent.ExecutionException e) {
                return false; // the coordinator is loading after a restart
            }
        });
        return found[0];
    }

    /** A Produce of one transactional record of {@code producerId}, sent over a raw socket with the transactional id. */
    private static short rawTransactionalProduce(String transactionalId, long producerId, short epoch, int sequence,
                                                 String topic, int partition) throws Exception {
        return rawTransactionalProduce(transactionalId, producerId, epoch, sequence, topic, partition, (short) 9);
    }

    private static short rawTransactionalProduce(String transactionalId, long producerId, short epoch, int sequence,
                                                 String topic, int partition, short version) throws Exception {
        var records = org.apache.kafka.common.record.MemoryRecords.withTransactionalRecords(
                org.apache.kafka.common.compress.Compression.NONE, producerId, epoch, sequence,
                new org.apache.kafka.common.record.SimpleRecord("late".getBytes()));
        var request = new org.apache.kafka.common.message.ProduceRequestData().setTransactionalId(transactionalId)
                .setAcks((short) -1).setTimeoutMs(10_000);
        var topicData = new org.apache.kafka.common.message.ProduceRequestData.TopicProduceData().setName(topic);
        topicData.partitionData().add(new org.apache.kafka.common.message.ProduceRequestData.PartitionProduceData()
                .setIndex(partition).setRecords(records));
        request.topicData().add(topicData);
        String[] hostPort = gregor.bootstrapServers().split(",")[0].split(":");
        org.apache.kafka.common.message.ProduceResponseData response = RawKafkaClient.sendOnce(
                new java.net.InetSocketAddress(hostPort[0], Integer.parseInt(hostPort[1])), request, version);
        return response.responses().iterator().next().partitionResponses().get(0).errorCode();
    }

    @Test
    void aTransactionalBatchOutsideTheOpenTransactionIsRefused() throws Exception {
        gregor.createTopic("verified", 2, Map.of());
        try (KafkaProducer<String, String> producer = transactional("verify-tx")) {
            producer.initTransactions();
            producer.beginTransaction();
            producer.send(new ProducerRecord<>("verified", 0, "k", "in-transaction")).get();
            var described = gregor.admin().describeTransactions(List.of("verify-tx")).all().get().get("verify-tx");
            short epoch = (short) described.producerEpoch();
            // Partition 1 was never added to the transaction (KIP-890 part 1).
            assertThat(rawTransactionalProduce("verify-tx", described.producerId(), epoch, 0, "verified", 1))
                    .isEqualTo(org.apache.kafka.common.protocol.Errors.INVALID_TXN_STATE.code());
            producer.commitTransaction();
            // (Until its markers are written a partition still takes batches of the transaction being committed.)
            Await.until("the commit complete", Duration.ofSeconds(30), () -> gregor.admin()
                    .describeTransactions(List.of("verify-tx")).all().get().get("verify-tx").state()
                    == org.apache.kafka.clients.admin.TransactionState.COMPLETE_COMMIT);
            // A late batch of the committed transaction cannot open a new one that nobody would end: with transaction
            // version 2 the commit bumped the epoch, and the batch's is fenced.
            assertThat(rawTransactionalProduce("verify-tx", described.producerId(), epoch, 1, "verified", 0))
                    .isEqualTo(org.apache.kafka.common.protocol.Errors.INVALID_PRODUCER_EPOCH.code());
            try (KafkaConsumer<String, String> consumer = gregor.consumer("isolation.level", "read_committed")) {
                TopicPartition tp = new TopicPartition("verified", 0);
                assertThat(consumer.endOffsets(List.of(tp)).get(tp)).as("no transaction left open").isEqualTo(2);
            }
        }
    }

    @Test
    void transactionVersion2BumpsTheEpochAtEveryEndAndProduceAddsPartitionsToTheTransaction() throws Exception {
        var features = gregor.admin().describeFeatures().featureMetadata().get();
        assertThat(features.finalizedFeatures().get("transaction.version").maxVersionLevel()).isEqualTo((short) 2);
        gregor.createTopic("tv2", 2, Map.of());
        try (KafkaProducer<String, String> producer = transactional("tv2-tx")) {
            producer.initTransactions();
            var initial = gregor.admin().describeTransactions(List.of("tv2-tx")).all().get().get("tv2-tx");
            for (int t = 0; t < 3; t++) {
                producer.beginTransaction();
                producer.send(new ProducerRecord<>("tv2", 0, "k", "t" + t)).get();
                if (t == 1) {
                    producer.abortTransaction();
                } else {
                    producer.commitTransaction();
                }
            }
            var after = gregor.admin().describeTransactions(List.of("tv2-tx")).all().get().get("tv2-tx");
            assertThat(after.producerId()).isEqualTo(initial.producerId());
            assertThat(after.producerEpoch()).as("one bump per commit or abort").isEqualTo(initial.producerEpoch() + 3);
            // A batch of an ended transaction, at its old epoch, is fenced.
            assertThat(rawTransactionalProduce("tv2-tx", initial.producerId(), (short) initial.producerEpoch(), 1,
                    "tv2", 1, (short) 12)).isEqualTo(org.apache.kafka.common.protocol.Errors.INVALID_PRODUCER_EPOCH.code());
            // Produce v12 at the current epoch adds its partition to the open transaction (nothing else did).
            producer.beginTransaction();
            producer.send(new ProducerRecord<>("tv2", 0, "k", "t3")).get();
            short epoch = (short) after.producerEpoch();
            assertThat(rawTransactionalProduce("tv2-tx", after.producerId(), epoch, 0, "tv2", 1, (short) 12))
                    .isEqualTo(org.apache.kafka.common.protocol.Errors.NONE.code());
            var open = gregor.admin().describeTransactions(List.of("tv2-tx")).all().get().get("tv2-tx");
            assertThat(open.topicPartitions()).contains(new TopicPartition("tv2", 0), new TopicPartition("tv2", 1));
            producer.commitTransaction();
        }
        assertThat(readAll("tv2", 2, "read_committed", 4)).containsExactlyInAnyOrder("t0", "t2", "t3", "late");
    }

    @Test
    void aKafka39ProducerOfTransactionVersion1AndA42OneCommitAndAbortSideBySide() throws Exception {
        gregor.createTopic("mixed", 2, Map.of());
        List<List<String>> oldTransactions = new ArrayList<>();
        List<String> committed = new ArrayList<>();
        for (int t = 0; t < 4; t++) {
            List<String> values = new ArrayList<>();
            for (int i = 0; i < 5; i++) {
                values.add("old-" + t + "-" + i);
            }
            oldTransactions.add(values);
            if (t % 2 == 0) {
                committed.addAll(values);
            }
        }
        // kafka-clients 3.9.1 (no transaction version 2: AddPartitionsToTxn, AddOffsetsToTxn, EndTxn v4) in a
        // thread of its own, while a 4.2 producer (version 2) writes to the same partitions.
        java.util.concurrent.CompletableFuture<Void> old = java.util.concurrent.CompletableFuture.runAsync(() -> {
            try (OldJavaClient client = OldJavaClient.of("3.9.1")) {
                client.produceInTransactions(gregor.bootstrapServers(), "mixed", "old-tx", oldTransactions,
                        t -> t % 2 == 0);
            } catch (Exception e) {
                throw new java.util.concurrent.CompletionException(e);
            }
        });
        try (KafkaProducer<String, String> current = transactional("new-tx")) {
            current.initTransactions();
            for (int t = 0; t < 4; t++) {
                current.beginTransaction();
                for (int i = 0; i < 5; i++) {
                    current.send(new ProducerRecord<>("mixed", i % 2, "k", "new-" + t + "-" + i));
                    if (t % 2 == 1) {
                        committed.add("new-" + t + "-" + i);
                    }
                }
                if (t % 2 == 1) {
                    current.commitTransaction();
                } else {
                    current.abortTransaction();
                }
            }
        }
        old.get(120, java.util.concurrent.TimeUnit.SECONDS);
        assertThat(readAll("mixed", 2, "read_committed", 20)).containsExactlyInAnyOrderElementsOf(committed);
        var described = gregor.admin().describeTransactions(List.of("old-tx", "new-tx")).all().get();
        assertThat(described.get("old-tx").producerEpoch()).as("version 1 keeps the epoch").isZero();
        assertThat(described.get("new-tx").producerEpoch()).as("version 2 bumps it at every end").isEqualTo(4);
    }

    /** The LOG-END-OFFSET and LAG columns of {@code gregor group describe} for partition 0 of {@code topic}. */
    private static List<String> describedRow(String group, String topic, String... extra) {
        var cli = io.gregor.cli.GregorCli.commandLine();
        java.io.StringWriter out = new java.io.StringWriter();
        cli.setOut(new java.io.PrintWriter(out, true));
        cli.setErr(new java.io.PrintWriter(new java.io.StringWriter(), true));
        List<String> args = new ArrayList<>(List.of("group", "describe", group, "-b", gregor.bootstrapServers()));
        args.addAll(List.of(extra));
        assertThat(cli.execute(args.toArray(String[]::new))).isZero();
        String[] row = out.toString().lines().map(l -> l.trim().split("\\s+")).filter(f -> f[0].equals(topic))
                .findFirst().orElseThrow();
        return List.of(row[3], row[4]);
    }

    @Test
    void groupDescribeMeasuresReadCommittedLagAgainstTheLastStableOffset() throws Exception {
        gregor.createTopic("lagged", 1, Map.of());
        TopicPartition tp = new TopicPartition("lagged", 0);
        try (KafkaProducer<String, String> producer = transactional("lagged-tx")) {
            producer.initTransactions();
            producer.beginTransaction();
            for (int i = 0; i < 5; i++) {
                producer.send(new ProducerRecord<>("lagged", 0, "k", "done-" + i));
            }
            producer.commitTransaction(); // records 0-4, its marker 5
            Await.until("the commit complete", Duration.ofSeconds(30), () -> gregor.admin()
                    .describeTransactions(List.of("lagged-tx")).all().get().get("lagged-tx").state()
                    == org.apache.kafka.clients.admin.TransactionState.COMPLETE_COMMIT);
            gregor.admin().alterConsumerGroupOffsets("lagged-group",
                    Map.of(tp, new org.apache.kafka.clients.consumer.OffsetAndMetadata(6))).all().get();
            producer.beginTransaction();
            for (int i = 0; i < 3; i++) {
                producer.send(new ProducerRecord<>("lagged", 0, "k", "open-" + i));
            }
            producer.flush(); // 6-8, open
            // Kafka's view: the high watermark, 3 behind. A read_committed group has nothing left to read.
            assertThat(describedRow("lagged-group", "lagged")).containsExactly("9", "3");
            assertThat(describedRow("lagged-group", "lagged", "--isolation", "read_committed")).containsExactly("6", "0");
            producer.commitTransaction();
        }
        Await.until("the second commit complete", Duration.ofSeconds(30), () -> gregor.admin()
                .describeTransactions(List.of("lagged-tx")).all().get().get("lagged-tx").state()
                == org.apache.kafka.clients.admin.TransactionState.COMPLETE_COMMIT);
        assertThat(describedRow("lagged-group", "lagged", "--isolation", "read_committed")).containsExactly("10", "4");
    }
}
