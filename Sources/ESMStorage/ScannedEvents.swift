import ESMCore

/// How a scan reads the events of each record.
public enum EventReading: Sendable {
    /// Each event decoded into an `Event`, for readers that apply or show them.
    case events
    /// Each event read for state (`StateEvent`): what opening state from the log needs, without
    /// the actor and the request.
    case states
    /// Each event read as far as its header (`EventHeader`: its syntax, version, sequence, time,
    /// type and initiator), for a check of the log that hands no event on (`esmlog verify`).
    case headers
}

/// The events of one record as a scan read them.
enum ScannedEvents {
    case events([Event])
    case states([StateEvent])
    case headers([EventHeader])

    /// Reads an events record's body the way `reading` says.
    static func read(_ body: [UInt8], firstSequence: UInt64, _ reading: EventReading) -> Result<ScannedEvents, StorageError> {
        switch reading {
        case .events: RecordCodec.events(body: body, firstSequence: firstSequence).map { .events($0) }
        case .states: RecordCodec.stateEvents(body: body, firstSequence: firstSequence).map { .states($0) }
        case .headers: RecordCodec.eventHeaders(body: body, firstSequence: firstSequence).map { .headers($0) }
        }
    }

    var count: Int {
        switch self {
        case .events(let e): e.count
        case .states(let e): e.count
        case .headers(let h): h.count
        }
    }

    /// The first and the last event's header (a record holds at least one event).
    var first: EventHeader { header(0) }
    var last: EventHeader { header(count - 1) }

    private func header(_ k: Int) -> EventHeader {
        switch self {
        case .events(let e): EventHeader(e[k])
        case .states(let e): EventHeader(e[k])
        case .headers(let h): h[k]
        }
    }
}

/// What a scan reads of every event, however it reads them.
protocol ScannedEvent {
    var sequence: UInt64 { get }
    var time: EventTime { get }
}

extension Event: ScannedEvent {}
extension StateEvent: ScannedEvent {}
extension EventHeader: ScannedEvent {}

extension EventHeader {
    init(_ e: some ScannedEvent) { self.init(sequence: e.sequence, time: e.time) }
}
