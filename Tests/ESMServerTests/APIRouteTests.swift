import HTTPTypes
import Testing
@testable import ESMServer

/// Routing, in process: which operation each method and path names.
@Suite struct APIRouteTests {
    @Test func theMappingRoutesWithAndWithoutTheTrailingSlash() {
        let c = "/2015-03-31/event-source-mappings"
        #expect(APIRoute(method: .post, path: c) == .create)
        #expect(APIRoute(method: .post, path: c + "/") == .create)
        #expect(APIRoute(method: .get, path: c) == .list)
        #expect(APIRoute(method: .get, path: c + "/u-1") == .get(uuid: "u-1"))
        #expect(APIRoute(method: .put, path: c + "/u-1/") == .update(uuid: "u-1"))
        #expect(APIRoute(method: .delete, path: c + "/u-1") == .delete(uuid: "u-1"))
        #expect(APIRoute(method: .get, path: "/metrics") == .metrics)
    }

    @Test func tagRoutesDecodeTheResourceArn() {
        let arn = "arn:aws:lambda:us-east-1:123456789012:event-source-mapping:u-1"
        let encoded = "/2017-03-31/tags/arn%3Aaws%3Alambda%3Aus-east-1%3A123456789012%3Aevent-source-mapping%3Au-1"
        #expect(APIRoute(method: .get, path: encoded) == .listTags(resource: arn))
        #expect(APIRoute(method: .post, path: encoded) == .tagResource(resource: arn))
        #expect(APIRoute(method: .delete, path: encoded) == .untagResource(resource: arn))
        #expect(APIRoute(method: .get, path: "/2017-03-31/tags/" + arn) == .listTags(resource: arn))
        #expect(APIRoute(method: .get, path: "/2017-03-31/tags/").operation == "UnknownOperation")
    }

    @Test func everythingElseIsUnknownAndNamedSo() {
        for (method, path) in [(HTTPRequest.Method.patch, "/2015-03-31/event-source-mappings"), (.post, "/metrics"), (.get, "/"),
                               (.get, "/2015-03-31/event-source-mappings/a/b"), (.put, "/2015-03-31/event-source-mappings"),
                               (.put, "/2017-03-31/tags/x"), (.get, "/2015-03-31/functions/f")] {
            #expect(APIRoute(method: method, path: path) == .unknown, "\(method) \(path)")
        }
        #expect(APIRoute.unknown.operation == "UnknownOperation")
        #expect(APIRoute.get(uuid: "x").operation == "GetEventSourceMapping")
        #expect(APIRoute.tagResource(resource: "x").operation == "TagResource")
    }
}
