import Testing
@testable import ESMPostgres
