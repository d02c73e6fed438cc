import ESMCore

/// How a scan reads the events of each record.
public enum EventReading: Sendable {
    /// Each event decoded into an `Event`, for readers that apply or show them.
    case events
    /// Each event read as far as its header (`EventHeader`: its syntax, version, sequence, time,
    /// type and initiator), for a check of the log that hands no event on (`esmlog verify`).
    case headers
}

/// The events of one record as a scan read them.
enum ScannedEvents {
    case events([Event])
    case headers([EventHeader])

    /// Reads an events record's body the way `reading` says.
    static func read(_ body: [UInt8], firstSequence: UInt64, _ reading: EventReading) -> Result<ScannedEvents, StorageError> {
        switch reading {
        case .events: RecordCodec.events(body: body, firstSequence: firstSequence).map { .events($0) }
        case .headers: RecordCodec.eventHeaders(body: body, firstSequence: firstSequence).map { .headers($0) }
        }
    }

    var count: Int {
        switch self {
        case .events(let e): e.count
        case .headers(let h): h.count
        }
    }

    /// The first and the last event's header (a record holds at least one event).
    var first: EventHeader { header(0) }
    var last: EventHeader { header(count - 1) }

    private func header(_ k: Int) -> EventHeader {
        switch self {
        case .events(let e): EventHeader(sequence: e[k].sequence, time: e[k].time)
        case .headers(let h): h[k]
        }
    }
}
