//! ManualHandle: the order waits in the manual queue until a person resolves it. Claims
//! keep two agents off one order; the resolution records who, when and why.

use std::error::Error;
use temporalio_macros::{workflow, workflow_methods};
use temporalio_sdk::{SyncWorkflowContext, WorkflowContext, WorkflowContextView, WorkflowResult};

use super::{conclude, recorded_at, set_stage};
use crate::{
    orders::{
        ClaimRequest, Handoff, ManualContext, Resolution, ResolutionRecord, ResolveRequest, Stage,
        Stamp, validate_operator,
    },
    temporal::search_attributes as sa,
};

type Rejection = Box<dyn Error + Send + Sync>;

/// Name of the Go original's signal, kept so existing tooling still works.
pub const RESOLVE_SIGNAL: &str = "resolve-manual-order";

#[workflow]
pub struct ManualHandle {
    handoff: Handoff,
    waiting_since: String,
    claim: Option<Stamp>,
    resolution: Option<ResolutionRecord>,
    concluded: bool,
}

#[workflow_methods]
impl ManualHandle {
    #[init]
    pub fn new(ctx: &WorkflowContextView, handoff: Handoff) -> Self {
        ManualHandle {
            handoff,
            waiting_since: recorded_at(ctx.start_time()),
            claim: None,
            resolution: None,
            concluded: false,
        }
    }

    #[run(name = "ManualHandle")]
    pub async fn run(ctx: &mut WorkflowContext<Self>) -> WorkflowResult<ResolutionRecord> {
        // Whoever started it set the stage already; running workflows recorded this write,
        // so it stays (dropping a command breaks their replay).
        set_stage(ctx, Stage::Manual, []);
        ctx.wait_condition(|s: &Self| s.resolution.is_some())
            .await?;
        let (record, order_id) = ctx.state(|s| {
            (
                s.resolution.clone().expect("waited for a resolution"),
                s.handoff.order.order_id.clone(),
            )
        });
        conclude(ctx, &order_id, &record).await?;
        ctx.state_mut(|s| s.concluded = true);
        Ok(record)
    }

    #[update_validator(resolve)]
    fn validate_resolve(
        &self,
        _ctx: &WorkflowContextView,
        request: &ResolveRequest,
    ) -> Result<(), Rejection> {
        if let Some(done) = &self.resolution {
            return Err(done.already_resolved().into());
        }
        request.validate()?;
        if let Some(claim) = &self.claim
            && claim.operator != request.operator
        {
            return Err(format!(
                "claimed by {} since {}: ask them, or have them release it first",
                claim.operator, claim.at
            )
            .into());
        }
        Ok(())
    }

    /// Resolves the order. The validator has checked everything; this records it.
    #[update(name = "resolve")]
    pub fn resolve(
        &mut self,
        ctx: &mut SyncWorkflowContext<Self>,
        request: ResolveRequest,
    ) -> ResolutionRecord {
        let resolution = request.validate().unwrap_or(Resolution::Failed);
        let at = recorded_at(ctx.workflow_time());
        let record = ResolutionRecord::by_person(request, resolution, at);
        self.resolution = Some(record.clone());
        record
    }

    #[update_validator(claim)]
    fn validate_claim(
        &self,
        _ctx: &WorkflowContextView,
        request: &ClaimRequest,
    ) -> Result<(), Rejection> {
        validate_operator(&request.operator)?;
        if let Some(done) = &self.resolution {
            return Err(done.already_resolved().into());
        }
        match &self.claim {
            Some(claim) if claim.operator != request.operator => {
                Err(format!("already claimed by {} since {}", claim.operator, claim.at).into())
            }
            // Accepting it would change nothing but grow history (Temporal caps updates
            // per execution): the client answers a re-claim from the query instead.
            Some(claim) => Err(format!("you have claimed it already, since {}", claim.at).into()),
            None => Ok(()),
        }
    }

    /// Claims the order for one agent. Claiming one's own claim again changes nothing.
    #[update(name = "claim")]
    pub fn claim(&mut self, ctx: &mut SyncWorkflowContext<Self>, request: ClaimRequest) -> Stamp {
        if let Some(claim) = &self.claim {
            return claim.clone();
        }
        let stamp = Stamp {
            operator: request.operator,
            at: recorded_at(ctx.workflow_time()),
        };
        ctx.upsert_search_attributes([sa::CLAIMED_BY.value_set(stamp.operator.clone())]);
        self.claim = Some(stamp.clone());
        stamp
    }

    #[update_validator(release)]
    fn validate_release(
        &self,
        _ctx: &WorkflowContextView,
        request: &ClaimRequest,
    ) -> Result<(), Rejection> {
        validate_operator(&request.operator)?;
        match &self.claim {
            None => Err("nobody has claimed this order".into()),
            Some(claim) if claim.operator != request.operator => Err(format!(
                "claimed by {}, not {}: only they can release it",
                claim.operator, request.operator
            )
            .into()),
            Some(_) => Ok(()),
        }
    }

    #[update(name = "release")]
    pub fn release(&mut self, ctx: &mut SyncWorkflowContext<Self>, _request: ClaimRequest) {
        // Empty rather than unset: this SDK's unset of a Keyword is refused by the server
        // ("invalid value … from <>"). Queries treat '' as unclaimed.
        ctx.upsert_search_attributes([sa::CLAIMED_BY.value_set(String::new())]);
        self.claim = None;
    }

    /// The Go original's signal: a bare resolution. Bad input cannot be refused on a
    /// signal, so it is ignored (the CLI checks before sending).
    #[signal(name = "resolve-manual-order")]
    pub fn resolve_manual_order(
        &mut self,
        ctx: &mut SyncWorkflowContext<Self>,
        resolution: String,
    ) {
        if self.resolution.is_some() {
            return;
        }
        let Ok(resolution) = Resolution::parse(&resolution) else {
            return;
        };
        self.resolution = Some(ResolutionRecord {
            resolution,
            reason_code: "SIGNAL".into(),
            resolved_by: self
                .claim
                .as_ref()
                .map(|c| c.operator.clone())
                .unwrap_or_else(|| "signal".into()),
            resolved_at: recorded_at(ctx.workflow_time()),
            note: String::new(),
        });
    }

    #[query(name = "context")]
    pub fn context(&self, _ctx: &WorkflowContextView) -> ManualContext {
        ManualContext {
            handoff: self.handoff.clone(),
            waiting_since: self.waiting_since.clone(),
            claim: self.claim.clone(),
            resolution: self.resolution.clone(),
            concluded: self.concluded,
        }
    }
}
