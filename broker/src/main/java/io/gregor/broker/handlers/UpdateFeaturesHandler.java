package io.gregor.broker.handlers;

import io.gregor.broker.controller.FeatureOperations;
import io.gregor.broker.network.RequestContext;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.message.UpdateFeaturesRequestData;
import org.apache.kafka.common.message.UpdateFeaturesResponseData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;

/**
 * UpdateFeatures v0-2 ({@code kafka-features.sh upgrade / downgrade}), on the active controller: see
 * {@link FeatureOperations}. v0's AllowDowngrade stands for a safe downgrade. The outcome is the top-level error; on
 * success v0-1 also list every feature with NONE, as Kafka does.
 */
public final class UpdateFeaturesHandler extends BrokerHandler<UpdateFeaturesRequestData> {
    private final FeatureOperations features;

    public UpdateFeaturesHandler(FeatureOperations features) {
        super(ApiKeys.UPDATE_FEATURES, 0, 2);
        this.features = features;
    }

    @Override
    public CompletableFuture<ApiMessage> handle(RequestContext context, UpdateFeaturesRequestData request) {
        short version = context.apiVersion();
        List<FeatureOperations.Update> updates = new ArrayList<>();
        for (UpdateFeaturesRequestData.FeatureUpdateKey u : request.featureUpdates()) {
            byte type = version == 0 ? (u.allowDowngrade() ? FeatureOperations.SAFE_DOWNGRADE : FeatureOperations.UPGRADE)
                    : u.upgradeType();
            updates.add(new FeatureOperations.Update(u.feature(), u.maxVersionLevel(), type));
        }
        return features.update(updates, version >= 1 && request.validateOnly()).thenApply(error -> {
            UpdateFeaturesResponseData response = new UpdateFeaturesResponseData().setErrorCode(error.code())
                    .setErrorMessage(error.message());
            if (error.isSuccess() && version < 2) {
                for (FeatureOperations.Update u : updates) {
                    response.results().add(new UpdateFeaturesResponseData.UpdatableFeatureResult().setFeature(u.feature())
                            .setErrorCode((short) 0));
                }
            }
            return response;
        });
    }
}
