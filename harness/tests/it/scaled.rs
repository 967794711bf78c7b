//! The seed scenarios on a scaled clock (real loopback sockets) agree with the virtual runs.

use sts_harness::scenario::ClockSpec;

use crate::common::*;

#[test]
fn virtual_and_scaled_360_give_the_same_verdicts_on_the_seed_scenarios() {
    let scenarios = seed_scenarios();
    assert!(scenarios.len() >= 4);
    let _guard = exclusive();
    // Virtual first, then the scaled runs alone, so they do not compete for the CPU.
    let virtual_reports: Vec<_> = scenarios
        .iter()
        .map(|s| run(s, Some(ClockSpec::Virtual)))
        .collect();
    let scaled_reports: Vec<_> = std::thread::scope(|scope| {
        let handles: Vec<_> = scenarios
            .iter()
            .map(|s| scope.spawn(move || run(s, Some(ClockSpec::Scaled { rate: 360.0 }))))
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let outcome: Vec<_> = virtual_reports.iter().zip(&scaled_reports).collect();
    for (virtual_report, scaled_report) in outcome {
        assert_eq!(scaled_report.clock, "scaled:360");
        for (v, s) in virtual_report.runs.iter().zip(&scaled_report.runs) {
            // Every scaled run reports its fidelity. At x360 a loopback call spans well under
            // the SDK's 5 s refresh buffer, unless the machine is very busy; a run whose
            // fidelity says the clock could have decided it is exempt, as the report says.
            // (A run refused at start-up, like scenario 04's, made no call to measure.)
            let fidelity = s.metrics.fidelity.as_ref().unwrap();
            assert!(
                fidelity.max_call_span_seconds > 0.0 || s.metrics.requests == 0,
                "{}: {fidelity:?}",
                s.name
            );
            if fidelity.could_decide_verdict {
                eprintln!(
                    "{}: scaled fidelity could decide the verdict: {fidelity:?}",
                    s.name
                );
                continue;
            }
            assert_eq!(
                (v.name.as_str(), v.verdict),
                (s.name.as_str(), s.verdict),
                "{}\n{}",
                departures(virtual_report),
                departures(scaled_report)
            );
            assert!(v.metrics.fidelity.is_none());
        }
    }
}
