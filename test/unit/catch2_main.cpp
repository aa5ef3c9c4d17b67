// Catch2's main plus a reporter that prints one TAP line per TEST_CASE (Catch2's own TAP reporter prints one per
// assertion), so meson and scripts/test count test cases, and a failing case carries its failed checks as
// TAP comments.
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>

#include <sstream>
#include <string>

namespace {

class TapCaseReporter : public Catch::StreamingReporterBase<TapCaseReporter> {
public:
    using StreamingReporterBase::StreamingReporterBase;

    static std::string getDescription() { return "TAP with one line per test case"; }

    void assertionStarting(Catch::AssertionInfo const&) override {}

    bool assertionEnded(Catch::AssertionStats const& stats) override {
        const Catch::AssertionResult& r = stats.assertionResult;
        if (r.isOk()) return true;
        std::ostringstream os;
        os << r.getSourceInfo() << ": ";
        if (r.hasExpression()) os << r.getExpressionInMacro() << " with expansion " << r.getExpandedExpression();
        if (r.hasMessage()) os << " message: " << r.getMessage();
        for (const Catch::MessageInfo& m : stats.infoMessages) os << " [" << m.message << "]";
        failures_ += os.str() + "\n";
        return true;
    }

    void testCaseEnded(Catch::TestCaseStats const& stats) override {
        ++count_;
        const bool ok = stats.totals.assertions.allOk();
        stream << (ok ? "ok " : "not ok ") << count_ << " - " << stats.testInfo.name << "\n";
        std::istringstream lines(failures_);
        for (std::string line; std::getline(lines, line);) stream << "# " << line << "\n";
        failures_.clear();
        stream.flush();
        StreamingReporterBase::testCaseEnded(stats);
    }

    void testRunEnded(Catch::TestRunStats const& stats) override {
        stream << "1.." << count_ << "\n";
        stream.flush();
        StreamingReporterBase::testRunEnded(stats);
    }

private:
    unsigned count_ = 0;
    std::string failures_;
};

}  // namespace

CATCH_REGISTER_REPORTER("tapcase", TapCaseReporter)
