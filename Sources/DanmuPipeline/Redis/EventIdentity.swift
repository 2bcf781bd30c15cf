import DanmuClient

/// The identity of an event, public for stages outside this module (the cluster's shared dedupe): the same key
/// `DedupeStage` compares (`d:<id_str>` for a danmaku, `sc:<id>` for a super chat, …), nil for kinds without one.
public enum EventIdentity {
    /// The dedupe key of `event`, or nil when the kind has no identity (heartbeats, counts, entries).
    public static func key(of event: DanmuEvent) -> String? {
        EventFields.dedupeKey(of: event)
    }
}
