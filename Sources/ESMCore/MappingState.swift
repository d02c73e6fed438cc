/// The seven states of an event source mapping, spelled as AWS returns them.
public enum MappingState: String, Sendable, CaseIterable, Codable {
    case creating = "Creating"
    case enabling = "Enabling"
    case enabled = "Enabled"
    case disabling = "Disabling"
    case disabled = "Disabled"
    case updating = "Updating"
    case deleting = "Deleting"

    /// True while the system owes a transition (the state ends in -ing).
    public var isTransitional: Bool {
        switch self {
        case .creating, .enabling, .disabling, .updating, .deleting: true
        case .enabled, .disabled: false
        }
    }
}
