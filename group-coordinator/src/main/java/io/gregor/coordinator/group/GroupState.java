package io.gregor.coordinator.group;

/** Classic group states, named as Kafka's DescribeGroups/ListGroups report them. */
public enum GroupState {
    EMPTY("Empty"),
    PREPARING_REBALANCE("PreparingRebalance"),
    COMPLETING_REBALANCE("CompletingRebalance"),
    STABLE("Stable"),
    DEAD("Dead");

    private final String label;

    GroupState(String label) {
        this.label = label;
    }

    @Override
    public String toString() {
        return label;
    }

    /** The state of a protocol name, case-insensitive, or null. */
    public static GroupState parse(String name) {
        for (GroupState s : values()) {
            if (s.label.equalsIgnoreCase(name)) {
                return s;
            }
        }
        return null;
    }
}
