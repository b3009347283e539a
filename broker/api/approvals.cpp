// /api/v1/approvals: the approvals waiting, and a person's vote on one.
#include "broker/api/api.hpp"

#include <boost/json.hpp>

#include "broker/api/responses.hpp"
#include "broker/runs/compose.hpp"
#include "core/ulid.hpp"

namespace tocsin {

namespace json = boost::json;

void Api::approval_vote(const std::string& id, bool approve, const ApiRequest& request,
                        Respond respond) {
  if (!is_ulid(id))
    return respond(error(404, Error{"not_found", "id: '" + id + "' is not an approval id", "id"}));
  std::string confirm;
  auto actor = actor_of(request, &confirm);
  if (!actor) return respond(error(status_for(actor.error()), actor.error()));
  const VoteProof proof{compose::is_live_word(confirm),
                        request.principal && request.principal->kind == "user", actor->via,
                        actor->note};
  journal_.vote(id, actor->by, approve, proof,
                [id, respond = std::move(respond)](Result<std::string> r) {
                  if (!r) return respond(error(status_for(r.error()), r.error()));
                  respond(json_response(200, json::object{{"id", id}, {"status", r.value()}}));
                });
}

void Api::list_approvals(const std::map<std::string, std::string>& query, Respond respond) {
  std::string state = "pending";
  if (auto it = query.find("state"); it != query.end())
    state = it->second == "all" ? "" : it->second;
  read("listing approvals", std::move(respond), [this, state] {
    return json_response(200, json::object{{"approvals", store_.approvals(state, 500)}});
  });
}

}  // namespace tocsin
