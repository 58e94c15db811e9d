"""Everything that talks to BSG, as one wing.

wire      one HTTP exchange: bytes out, a Reply back, by a deadline; foreign errors
          translated here
reading   one answer off a socket: by a deadline, within a size, a stop seen soon
connections  each thread's own connection, the pacer around each exchange
bearer    the login's JWT and when to renew it
login     the bearer of a key: logged in, refreshed, renewed after a 401
answers   what an answer says: success, a failure to retry or not, typed objects
client    BsgClient: typed calls, one attempt each
evidence  what the answers tell the controller (Answer, Slot, the X-RateLimit window)
pace      the controller: requests in flight and requests a second, from the evidence
retry     the retry policy as one value, and the run's patience (Health)
calls     the session: the client under the policy, the one way the stages call BSG;
          the only place that turns call failures into the tool's fatal errors
errors    the call failures, one tree
"""

#: Where BSG's API is, unless --base-url says otherwise.
DEFAULT_BASE_URL = "https://one-api.bsg.world"
