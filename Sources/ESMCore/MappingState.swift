/// The seven states of an event source mapping, spelled as AWS returns them.
public enum MappingState: String, Sendable, CaseIterable, Codable {
    case creating = "Creating"
    case enabling = "Enabling"
    case enabled = "Enabled"
    case disabling = "Disabling"
    case disabled = "Disabled"
    case updating = "Updating"
    case deleting = "Deleting"

    /// The state's place in `allCases`, for counts kept in an array.
    var ordinal: Int {
        switch self {
        case .creating: 0
        case .enabling: 1
        case .enabled: 2
        case .disabling: 3
        case .disabled: 4
        case .updating: 5
        case .deleting: 6
        }
    }

    /// The name as a JSON string, quotes included.
    var quoted: StaticString {
        switch self {
        case .creating: #""Creating""#
        case .enabling: #""Enabling""#
        case .enabled: #""Enabled""#
        case .disabling: #""Disabling""#
        case .disabled: #""Disabled""#
        case .updating: #""Updating""#
        case .deleting: #""Deleting""#
        }
    }

    /// True while the system owes a transition (the state ends in -ing).
    public var isTransitional: Bool {
        switch self {
        case .creating, .enabling, .disabling, .updating, .deleting: true
        case .enabled, .disabled: false
        }
    }
}
