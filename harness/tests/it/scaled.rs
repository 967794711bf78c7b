//! The seed scenarios on a scaled clock (real loopback sockets) agree with the virtual runs.

use sts_harness::scenario::ClockSpec;

use crate::common::*;

#[test]
fn virtual_and_scaled_360_give_the_same_verdicts_on_the_seed_scenarios() {
    let scenarios = seed_scenarios();
    assert!(scenarios.len() >= 4);
    let outcome: Vec<_> = std::thread::scope(|scope| {
        let handles: Vec<_> = scenarios
            .iter()
            .map(|s| {
                scope.spawn(move || {
                    (
                        run(s, Some(ClockSpec::Virtual)),
                        run(s, Some(ClockSpec::Scaled { rate: 360.0 })),
                    )
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    for (virtual_report, scaled_report) in &outcome {
        assert_eq!(scaled_report.clock, "scaled:360");
        for (v, s) in virtual_report.runs.iter().zip(&scaled_report.runs) {
            assert_eq!(
                (v.name.as_str(), v.verdict),
                (s.name.as_str(), s.verdict),
                "{}\n{}",
                departures(virtual_report),
                departures(scaled_report)
            );
            // Every scaled run reports its fidelity; at x360 a loopback call spans well under
            // the 5 s refresh buffer, so the clock cannot have decided a verdict.
            let fidelity = s.metrics.fidelity.as_ref().unwrap();
            assert!(!fidelity.could_decide_verdict, "{}: {fidelity:?}", s.name);
            assert!(v.metrics.fidelity.is_none());
        }
    }
}
