package io.gregor.broker.controller;

import io.gregor.broker.config.BrokerConfig;
import io.gregor.metadata.ApiError;
import io.gregor.metadata.ControllerResult;
import io.gregor.metadata.MetadataImage;
import io.gregor.metadata.MetadataManager;
import io.gregor.metadata.MetadataRecord;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.function.Supplier;
import org.apache.kafka.common.protocol.Errors;

/**
 * Finalized feature levels (KIP-584), as {@code kafka-features.sh} sees and changes them: Gregor finalizes one
 * feature, {@code transaction.version} (0-2; 2 is KIP-890 part 2). Until an UpdateFeatures sets it, its level is the
 * nodes' {@code transaction.version} setting; afterwards the level in the metadata log, the same on every node.
 *
 * <p>An update is all or nothing, as in Kafka: any invalid feature update fails the whole request with
 * INVALID_UPDATE_VERSION (unknown feature, level out of range, a downgrade without a downgrade type, an upgrade
 * with one) or INVALID_REQUEST (unknown upgrade type, a feature named twice).
 */
public final class FeatureOperations {
    public static final String TRANSACTION_VERSION = "transaction.version";
    public static final short MAX_TRANSACTION_VERSION = 2;
    /** Kafka's UpdateFeatures upgrade types. */
    public static final byte UPGRADE = 1;
    public static final byte SAFE_DOWNGRADE = 2;
    public static final byte UNSAFE_DOWNGRADE = 3;

    private final MetadataManager metadata;
    private final Supplier<BrokerConfig> config;

    public FeatureOperations(MetadataManager metadata, Supplier<BrokerConfig> config) {
        this.metadata = metadata;
        this.config = config;
    }

    /** One requested change: the feature, its new level, the upgrade type. */
    public record Update(String feature, short level, byte upgradeType) {
    }

    /** The finalized transaction.version of {@code image}: set by UpdateFeatures, else configured. */
    public static short transactionVersion(MetadataImage image, BrokerConfig config) {
        MetadataImage.FeatureLevel set = image.feature(TRANSACTION_VERSION);
        return set != null ? set.level() : (short) config.transactionVersion();
    }

    /** The epoch of the finalized features clients see in ApiVersions: the metadata offset of the last change, at least 1. */
    public static long epoch(MetadataImage image) {
        MetadataImage.FeatureLevel set = image.feature(TRANSACTION_VERSION);
        return set == null ? 1 : Math.max(1, set.epoch());
    }

    /** Applies {@code updates} (or only checks them) on the active controller; completes with the outcome. */
    public CompletableFuture<ApiError> update(List<Update> updates, boolean validateOnly) {
        BrokerConfig current = config.get();
        return metadata.write(image -> {
            List<MetadataRecord> records = new ArrayList<>();
            java.util.Set<String> seen = new java.util.HashSet<>();
            for (Update u : updates) {
                if (!seen.add(u.feature())) {
                    return ControllerResult.noChange(ApiError.of(Errors.INVALID_REQUEST, "Feature " + u.feature()
                            + " appears more than once in the request"));
                }
                short level = transactionVersion(image, current);
                ApiError invalid = check(u, level);
                if (!invalid.isSuccess()) {
                    return ControllerResult.noChange(invalid);
                }
                if (u.level() != level || image.feature(TRANSACTION_VERSION) == null) {
                    records.add(new MetadataRecord.FeatureLevelSet(u.feature(), (short) Math.max(0, u.level())));
                }
            }
            return validateOnly || records.isEmpty() ? ControllerResult.noChange(ApiError.NONE)
                    : ControllerResult.of(records, ApiError.NONE);
        });
    }

    private static ApiError check(Update u, short current) {
        if (!TRANSACTION_VERSION.equals(u.feature())) {
            return ApiError.of(Errors.INVALID_UPDATE_VERSION, "Feature " + u.feature() + " is not supported by this cluster"
                    + " (Gregor finalizes " + TRANSACTION_VERSION + " only)");
        }
        if (u.upgradeType() < UPGRADE || u.upgradeType() > UNSAFE_DOWNGRADE) {
            return ApiError.of(Errors.INVALID_REQUEST, "Unknown upgrade type " + u.upgradeType() + " for " + u.feature());
        }
        short level = (short) Math.max(0, u.level());
        if (level > MAX_TRANSACTION_VERSION) {
            return ApiError.of(Errors.INVALID_UPDATE_VERSION, "Invalid update version " + u.level() + " for feature "
                    + u.feature() + ": this cluster supports levels 0 to " + MAX_TRANSACTION_VERSION);
        }
        if (level < current && u.upgradeType() == UPGRADE) {
            return ApiError.of(Errors.INVALID_UPDATE_VERSION, "Can't downgrade the version of " + u.feature() + " from "
                    + current + " to " + level + " without setting the upgrade type to safe or unsafe downgrade");
        }
        if (level > current && u.upgradeType() != UPGRADE) {
            return ApiError.of(Errors.INVALID_UPDATE_VERSION, "Can't upgrade " + u.feature() + " from " + current + " to "
                    + level + " with a downgrade");
        }
        return ApiError.NONE;
    }
}
